import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgressLine } from '../src/progress.ts';

function terminal(columns?: number) {
  const writes: string[] = [];
  return { writes, sink: { columns, write: (text: string) => writes.push(text) } };
}

describe('the progress line', () => {
  it('draws a bar of done over total in place, and ends on a fresh line', () => {
    const { writes, sink } = terminal(80);
    const line = createProgressLine(sink, true);
    line.draw(0, 4, 'first');
    line.draw(1, 4, 'second');
    line.draw(4, 4, 'done');
    line.end();
    line.end();
    assert.deepEqual(writes, [
      '\r[------------------------] 0/4 first\u001b[K',
      '\r[######------------------] 1/4 second\u001b[K',
      '\r[########################] 4/4 done\u001b[K',
      '\n',
    ]);
  });

  it('sweeps a block back and forth while the total is unknown', () => {
    const { writes, sink } = terminal(80);
    const line = createProgressLine(sink, true);
    for (let i = 0; i < 23; i++) line.draw(i, undefined, 'waiting');
    const bars = writes.map((w) => /\[([-#]+)\]/.exec(w)?.[1]);
    assert.equal(bars[0], `###${'-'.repeat(21)}`);
    assert.equal(bars[21], `${'-'.repeat(21)}###`);
    assert.equal(bars[22], `${'-'.repeat(20)}###-`);
    assert.ok(
      writes.every((w) => w.endsWith(' waiting\u001b[K')),
      'no count without a total',
    );
  });

  it('keeps to one row of the terminal, taking 80 columns when it reports none', () => {
    const narrow = terminal(30);
    createProgressLine(narrow.sink, true).draw(1, 2, 'a label far too long for the row');
    assert.equal(narrow.writes[0], `\r${'[############------------] 1/2 a label far too long'.slice(0, 29)}\u001b[K`);
    const unsized = terminal(0);
    createProgressLine(unsized.sink, true).draw(1, 2, 'x'.repeat(100));
    assert.equal(unsized.writes[0]!.length, '\r'.length + 79 + '\u001b[K'.length);
  });

  it('writes nothing when disabled (not a terminal, or --json)', () => {
    const { writes, sink } = terminal(80);
    const line = createProgressLine(sink, false);
    line.draw(1, 2, 'x');
    line.end();
    assert.deepEqual(writes, []);
  });
});
