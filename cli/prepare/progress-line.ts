/**
 * A one-line progress indicator ("uploading 120/4000 ...") rewritten in place on a terminal,
 * and silent otherwise, so logs and pipes do not fill with carriage returns.
 */

/** The stream the line goes to (process.stderr in the CLI). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A progress line. */
export interface ProgressLine {
  update(text: string): void;
  /** Ends the line (if anything was shown). */
  done(): void;
}

/** Creates a progress line on `stream`; it writes only when the stream is a terminal. */
export function createProgressLine(stream: ProgressStream): ProgressLine {
  let shown = 0;
  return {
    update(text: string) {
      if (!stream.isTTY) return;
      // Pad over the previous text, which may have been longer.
      stream.write(`\r${text.padEnd(shown)}`);
      shown = Math.max(shown, text.length);
    },
    done() {
      if (shown > 0) stream.write('\n');
      shown = 0;
    },
  };
}
