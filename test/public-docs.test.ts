/**
 * Every public type and value the library exports (src/index.ts) carries a
 * TSDoc comment on its declaration, found through the TypeScript compiler.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('public API documentation', () => {
  it('documents every export of src/index.ts', () => {
    const program = ts.createProgram([ENTRY], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      resolveJsonModule: true,
      // no type packages: a doc comment is read from the declaration, and Node's own types
      // (a third of the program's files, half its time) add none; an export that resolved
      // into them would be reported undocumented, never passed
      types: [],
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(ENTRY);
    expect(source, 'src/index.ts in the program').toBeDefined();
    const moduleSymbol = checker.getSymbolAtLocation(source!);
    expect(moduleSymbol, 'src/index.ts is a module').toBeDefined();

    const exports = checker.getExportsOfModule(moduleSymbol!);
    expect(exports.length).toBeGreaterThan(0);
    const undocumented = exports
      .filter((s) => {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '';
      })
      .map((s) => s.getName())
      .sort();
    expect(undocumented, `exports without a doc comment: ${undocumented.join(', ')}`).toEqual([]);
  }, 30_000);
});
