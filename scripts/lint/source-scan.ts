import ts from 'typescript';
import type { ImportRef, SourceScan } from './types.ts';

// Matched against comment text only, so mentions in strings or prose never count; the
// shapes follow what tsc itself treats as a directive.
const LINE_DIRECTIVE = /^\/\/\/?\s*@(ts-ignore|ts-expect-error)\b/;
const BLOCK_DIRECTIVE = /^\/\*[\s*]*@(ts-ignore|ts-expect-error)\b/;

/** Parses one file once and collects everything the rules look at: imports and hygiene findings. */
export function scanSource(fileName: string, text: string): SourceScan {
  const sf = ts.createSourceFile(
    fileName,
    text,
    { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone },
    true,
    ts.ScriptKind.TS,
  );
  const lineOf = (node: ts.Node): number => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const scan: SourceScan = { imports: [], consoleLogLines: [], tsDirectives: [], onlyCalls: [], literalTexts: [] };
  // Specifiers are judged as imports, so they are kept out of the literal texts.
  const specifiers = new Set<ts.Node>();
  const add = (specifier: ts.Expression | undefined, at: ts.Node, kind: ImportRef['kind'], typeOnly: boolean): void => {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier)) return;
    specifiers.add(specifier);
    scan.imports.push({ specifier: specifier.text, line: lineOf(at), kind, typeOnly });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node, 'import', node.importClause?.isTypeOnly === true);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node, 'export-from', node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node, 'require', node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, node, 'type-query', true);
    } else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], node, 'dynamic', false);
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node.arguments[0], node, 'require', false);
      else if (ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'only') {
        scan.onlyCalls.push({ line: lineOf(node), callee: node.expression.getText(sf) });
      }
    } else if (ts.isPropertyAccessExpression(node) && node.name.text === 'log' && ts.isIdentifier(node.expression) && node.expression.text === 'console') {
      scan.consoleLogLines.push(lineOf(node));
    } else if (
      (ts.isStringLiteral(node) ||
        ts.isNoSubstitutionTemplateLiteral(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      !specifiers.has(node) &&
      node.text !== ''
    ) {
      scan.literalTexts.push({ line: lineOf(node), text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);

  if (text.includes('@ts-')) {
    for (const comment of collectComments(sf)) {
      const body = text.slice(comment.pos, comment.end);
      const match = (comment.kind === ts.SyntaxKind.SingleLineCommentTrivia ? LINE_DIRECTIVE : BLOCK_DIRECTIVE).exec(body);
      if (match) scan.tsDirectives.push({ line: sf.getLineAndCharacterOfPosition(comment.pos).line + 1, directive: `@${match[1]}` });
    }
    scan.tsDirectives.sort((a, b) => a.line - b.line);
  }
  return scan;
}

// Comments are trivia attached to tokens; walking every token (getChildren includes them)
// finds each comment without ever scanning the inside of a string or template literal.
function collectComments(sf: ts.SourceFile): ts.CommentRange[] {
  const seen = new Set<number>();
  const found: ts.CommentRange[] = [];
  const take = (ranges: ts.CommentRange[] | undefined): void => {
    for (const range of ranges ?? []) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      found.push(range);
    }
  };
  const walk = (node: ts.Node): void => {
    take(ts.getLeadingCommentRanges(sf.text, node.pos));
    take(ts.getTrailingCommentRanges(sf.text, node.end));
    for (const child of node.getChildren(sf)) walk(child);
  };
  walk(sf);
  return found;
}
