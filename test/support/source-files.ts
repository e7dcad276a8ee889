/**
 * Writes a source file as an editor saves it before a build: its modification time `secondsAgo`
 * in the past. The bundle caches count a file modified within 2 s of a build's start as maybe
 * saved while esbuild read it and bundle it again next time (mayHaveChangedWhileBundling), so a
 * test that counts builds saves its sources clearly before them.
 */
import * as fs from 'fs';

export function saveSource(file: string, contents: string, secondsAgo = 10): void {
  fs.writeFileSync(file, contents);
  const then = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, then, then);
}
