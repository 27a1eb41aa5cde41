import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * A server child (postgres, redis-server) that belongs to this process alone.
 *
 * - It runs in its own session, so Ctrl-C at a terminal (SIGINT to the foreground process
 *   group) reaches only us: we stop the router, loops and pools first and the server last.
 * - A small `sh` guard between us and the server holds a pipe from us. When that pipe
 *   closes (our `stop()`, a normal exit, a crash, even SIGKILL), the guard sends the server
 *   its stop signal, so the server never outlives us.
 */
export interface TiedProcess {
  /** The server's stdout and stderr, as lines. */
  onLine(listener: (line: string) => void): void;
  /** Resolves with the server's exit code once it has exited, however it ended. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
  /** Resolves when a line matches; rejects with the output so far if the server exits first. */
  waitFor(ready: (line: string) => boolean, what: string): Promise<void>;
}

// $1 is the signal that stops the server, the rest its command line. fd 3 keeps our pipe
// for the watcher only; the server gets /dev/null as stdin and never sees the pipe.
const GUARD = [
  'sig=$1; shift',
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'server=$!',
  '(read -r line <&3; kill -s "$sig" "$server" 2>/dev/null) </dev/null &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$server"; code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

function splitLines(stream: Readable | null, emit: (line: string) => void): void {
  if (stream === null) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') emit(line.trimEnd());
  });
  stream.on('end', () => {
    if (rest.trim() !== '') emit(rest.trimEnd());
  });
}

export function spawnTied(
  command: string,
  args: string[],
  options: { stopSignal: 'INT' | 'TERM'; uid?: number; gid?: number; env?: NodeJS.ProcessEnv },
): TiedProcess {
  const child = spawn('/bin/sh', ['-c', GUARD, 'tansu-guard', options.stopSignal, command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
    env: options.env ?? process.env,
  });
  // Our end of the pipe is the guard's trigger; nothing is ever written on it.
  child.stdin.on('error', () => undefined);
  const listeners: ((line: string) => void)[] = [];
  const emit = (line: string) => {
    for (const listener of listeners) listener(line);
  };
  splitLines(child.stdout, emit);
  splitLines(child.stderr, emit);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after the last output line, which says why a server that failed to start exited.
    child.once('close', (code) => resolve(code));
  });
  const output: string[] = [];
  listeners.push((line) => {
    output.push(line);
    if (output.length > 30) output.shift();
  });
  return {
    onLine: (listener) => listeners.push(listener),
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin.end();
      return exited;
    },
    waitFor: (ready, what) =>
      new Promise<void>((resolve, reject) => {
        listeners.push((line) => {
          if (ready(line)) resolve();
        });
        exited.then(
          (code) => reject(new Error(`${what} exited with code ${code} before it was ready:\n${output.join('\n')}`)),
          (error: unknown) => reject(error),
        );
      }),
  };
}
