// Proves the program uses the generated types as they are: no `as` cast, no `<T>` assertion,
// no `any`, no non-null assertion `!` and no `@ts-` directive. Read from TypeScript's own
// syntax tree, so words in strings and comments do not count and nothing slips through.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const FORBIDDEN = {
  [ts.SyntaxKind.AsExpression]: "an `as` cast",
  [ts.SyntaxKind.TypeAssertionExpression]: "a `<T>` type assertion",
  [ts.SyntaxKind.NonNullExpression]: "a non-null assertion `!`",
  [ts.SyntaxKind.AnyKeyword]: "`any`",
};

function lint(path) {
  const text = readFileSync(path, "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const problems = [];
  const report = (position, what) => {
    const { line, character } = source.getLineAndCharacterOfPosition(position);
    problems.push(`${path}:${line + 1}:${character + 1}: ${what}`);
  };
  const visit = (node) => {
    const what = FORBIDDEN[node.kind];
    if (what !== undefined) {
      report(node.getStart(source), what);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const scanner = ts.createScanner(
    ts.ScriptTarget.Latest,
    false,
    ts.LanguageVariant.Standard,
    text,
  );
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    const isComment =
      token === ts.SyntaxKind.SingleLineCommentTrivia ||
      token === ts.SyntaxKind.MultiLineCommentTrivia;
    if (isComment && scanner.getTokenText().includes("@ts-")) {
      report(scanner.getTokenPos(), "a `@ts-` directive");
    }
  }
  return problems;
}

const directory = process.argv[2] ?? "src";
const files = readdirSync(directory)
  .filter((name) => name.endsWith(".ts"))
  .map((name) => join(directory, name));
const problems = files.flatMap(lint);
for (const problem of problems) {
  console.error(problem);
}
if (files.length === 0 || problems.length > 0) {
  console.error(`lint: ${problems.length} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`lint: ${files.length} file(s), no cast, any, non-null assertion or @ts- directive`);
