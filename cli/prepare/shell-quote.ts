/**
 * Quotes a word for a POSIX shell, so a command the CLI prints works when pasted, whatever the
 * path holds (spaces, quotes, $). Plain words stay as they are. Pure.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
