import type { CheckReport } from './check-subgraph.ts';

const LABEL = { breaking: 'BREAKING', dangerous: 'dangerous', safe: 'safe' } as const;

/** The report a person reads: what failed first, then every change with its level. */
export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  lines.push(`${report.passed ? 'PASS' : 'FAIL'}  subgraph ${report.subgraph}`);
  if (report.compositionErrors.length > 0) {
    lines.push('', 'Composition errors:');
    for (const error of report.compositionErrors) lines.push(`  - ${error}`);
  }
  if (report.changes.length > 0) {
    lines.push('', report.usageAware ? 'Changes (usage-aware):' : 'Changes (no usage data: every breaking change counts):');
    const order = { breaking: 0, dangerous: 1, safe: 2 };
    for (const change of [...report.changes].sort((a, b) => order[a.level] - order[b.level] || a.coordinate.localeCompare(b.coordinate))) {
      const by =
        change.operations === undefined || change.operations.length === 0
          ? ''
          : `, by ${change.operations.slice(0, 5).join(', ')}${change.operations.length > 5 ? ` and ${change.operations.length - 5} more` : ''}`;
      const usage =
        change.uses === undefined
          ? ''
          : change.unused
            ? '  (unused in the last 30 days: warning only)'
            : `  (used ${change.uses} time${change.uses === 1 ? '' : 's'} in the last 30 days${by})`;
      lines.push(`  ${LABEL[change.level].padEnd(9)} ${change.message}${usage}`);
    }
  } else if (report.compositionErrors.length === 0) {
    lines.push('', 'No changes to the API schema.');
  }
  if (report.documentErrors.length > 0) {
    lines.push('', 'Registered operations that would stop working:');
    for (const failure of report.documentErrors) lines.push(`  - ${failure.name}: ${failure.errors.join('; ')}`);
  }
  return lines.join('\n');
}
