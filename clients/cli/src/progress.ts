const WIDTH = 24;

/**
 * One line redrawn in place on a terminal: a bar when the total is known, a block sweeping
 * back and forth when it is not (waiting for something the platform does in its own time).
 * Disabled, it writes nothing: the output is not a terminal, or it is read by a program.
 */
export interface ProgressLine {
  draw(done: number, total: number | undefined, label: string): void;
  /** Leaves the last drawing on screen; what is written next starts on a fresh line. */
  end(): void;
}

/** Where the line is drawn: a terminal's stream (its width in `columns`). */
export interface TerminalSink {
  write(text: string): unknown;
  columns?: number;
}

export function createProgressLine(stream: TerminalSink, enabled: boolean): ProgressLine {
  let drawing = false;
  let ticks = 0;
  return {
    draw(done, total, label) {
      if (!enabled) return;
      let bar: string;
      let count = '';
      if (total === undefined) {
        // Position on a path of 2 × (WIDTH - 3) steps: right, then back left.
        const span = WIDTH - 3;
        const step = ticks++ % (2 * span);
        const at = step < span ? step : 2 * span - step;
        bar = `${'-'.repeat(at)}###${'-'.repeat(WIDTH - 3 - at)}`;
      } else {
        const filled = total <= 0 ? WIDTH : Math.min(WIDTH, Math.round((done / total) * WIDTH));
        bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
        count = ` ${done}/${total}`;
      }
      // One row only: a label wider than the terminal would wrap and break the redraw.
      const line = `[${bar}]${count} ${label}`;
      // A terminal that reports no size (0) is taken for the usual 80 columns.
      const columns = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
      stream.write(`\r${line.length >= columns ? line.slice(0, columns - 1) : line}\u001b[K`);
      drawing = true;
    },
    end() {
      if (drawing) stream.write('\n');
      drawing = false;
    },
  };
}
