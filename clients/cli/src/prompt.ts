import { createInterface } from 'node:readline';

/** Thrown when the command was called wrongly: one line to the user, exit status 2. */
export class UsageError extends Error {}

/** One line from stdin; on a terminal, asked for and (for secrets) not echoed. */
export async function ask(question: string, options: { secret?: boolean } = {}): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const lines = createInterface({ input });
    for await (const line of lines) {
      lines.close();
      return line;
    }
    throw new UsageError(`${question.replace(/:\s*$/, '')} was expected on stdin`);
  }
  const rl = createInterface({ input, output: process.stderr, terminal: true });
  if (options.secret) {
    // Echo nothing after the question while the secret is typed.
    const write = (rl as unknown as { _writeToOutput(text: string): void })._writeToOutput.bind(rl);
    (rl as unknown as { _writeToOutput(text: string): void })._writeToOutput = (text: string) => {
      if (text.startsWith(question)) write(text);
    };
  }
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  if (options.secret) process.stderr.write('\n');
  return answer;
}
