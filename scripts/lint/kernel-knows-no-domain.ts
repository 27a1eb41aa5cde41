import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportGraph, Problem } from './types.ts';

const KERNEL_SOURCE = 'platform/src/';
// Configuration is read in one place, so a domain's own settings (`TANSU_WORKFLOW_...`) are
// named there; only the names of environment variables are let through, in that file only.
const CONFIG_MODULE = 'platform/src/config.ts';
const ENV_NAME = /^TANSU_[A-Z0-9_]+$/;

/** The domains, named as the directories under `subgraphs/` that hold a package. */
export function subgraphNames(root: string): string[] {
  const parent = join(root, 'subgraphs');
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(parent, entry.name, 'package.json')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The kernel serves every domain by being told about them, never by naming them: a domain's
 * name in a kernel string (a schema list, an env var, a port) means the kernel must change
 * whenever domains do. A word is a run of letters and digits, so `IDENTITY_PORT` and
 * `workflow.run` name a domain while `identityUrl` does not; comments and identifiers are not
 * looked at.
 */
export function checkKernelKnowsNoDomain(graph: ImportGraph, domains: readonly string[]): Problem[] {
  if (domains.length === 0) return [];
  const escaped = domains.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const word = new RegExp(`(?<![a-z0-9])(?:${escaped.join('|')})(?![a-z0-9])`, 'gi');
  const problems: Problem[] = [];
  for (const { file, scan } of graph.modules.values()) {
    if (!file.startsWith(KERNEL_SOURCE)) continue;
    for (const { line, text } of scan.literalTexts) {
      if (file === CONFIG_MODULE && ENV_NAME.test(text)) continue;
      const named = new Set([...text.matchAll(word)].map((match) => match[0].toLowerCase()));
      for (const domain of named) {
        problems.push({
          file,
          line,
          rule: 'kernel-knows-no-domain',
          message: `the kernel names the ${domain} domain in '${excerpt(text)}'; let the domain pass it in`,
        });
      }
    }
  }
  return problems;
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}
