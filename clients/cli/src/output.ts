/** How a command answers: lines and tables for a person, one JSON document (or one per line, for streams) with --json. */
export interface Output {
  json: boolean;
  /** The command's result. */
  result(value: unknown, human: () => string): void;
  /** One item of a stream (`workflows watch`). */
  event(value: unknown, human: () => string): void;
  /** Progress of long work, drawn in place on a terminal; nothing with --json or without a terminal. */
  progress(done: number, total: number, label: string): void;
  info(line: string): void;
}

export function createOutput(json: boolean, stream: NodeJS.WriteStream = process.stdout, errors: NodeJS.WriteStream = process.stderr): Output {
  let drawing = false;
  const endProgress = () => {
    if (drawing) errors.write('\n');
    drawing = false;
  };
  return {
    json,
    result(value, human) {
      endProgress();
      stream.write(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
    },
    event(value, human) {
      endProgress();
      stream.write(`${json ? JSON.stringify(value) : human()}\n`);
    },
    progress(done, total, label) {
      if (json || !errors.isTTY) return;
      const width = 24;
      const filled = total === 0 ? 0 : Math.round((done / total) * width);
      errors.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}\u001b[K`);
      drawing = true;
    },
    info(line) {
      if (json) return;
      endProgress();
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
