import { createProgressLine } from './progress.ts';

/** How a command answers: lines and tables for a person, one JSON document (or one per line, for streams) with --json. */
export interface Output {
  json: boolean;
  /** The command's result. */
  result(value: unknown, human: () => string): void;
  /** One item of a stream (`workflows watch`). */
  event(value: unknown, human: () => string): void;
  /**
   * Progress of long work, drawn in place on stderr when it is a terminal: `done` of `total`,
   * or, with no total, a sign of life while waiting. Nothing with --json or without a terminal.
   */
  progress(done: number, total: number | undefined, label: string): void;
  info(line: string): void;
}

export function createOutput(json: boolean, stream: NodeJS.WriteStream = process.stdout, errors: NodeJS.WriteStream = process.stderr): Output {
  const bar = createProgressLine(errors, !json && errors.isTTY === true);
  return {
    json,
    result(value, human) {
      bar.end();
      stream.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
    },
    event(value, human) {
      bar.end();
      stream.write(`${json ? JSON.stringify(value) : human()}\n`);
    },
    progress(done, total, label) {
      bar.draw(done, total, label);
    },
    info(line) {
      if (json) return;
      bar.end();
      errors.write(`${line}\n`);
    },
  };
}

/** Rows as aligned columns under their headers. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
