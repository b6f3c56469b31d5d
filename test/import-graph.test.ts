/**
 * shared/ has no import loop: module A importing B while B (perhaps through others) imports A makes evaluation
 * order matter (a class used before its module ran). Only imports that survive compilation count: `import type`
 * and imports of types alone are erased.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../shared/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The relative modules a file imports at run time (resolved to .ts paths). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const out: string[] = [];
  for (const node of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typesOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (!clause.name && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typesOnly) specifier = node.moduleSpecifier;
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly) {
      const typesOnly = node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly);
      if (!typesOnly) specifier = node.moduleSpecifier;
    }
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith(".")) out.push(resolve(dirname(file), specifier.text.replace(/\.js$/, ".ts")));
  }
  return out;
}

/** Every cycle found by a depth-first walk, as `a.ts > b.ts > a.ts`. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(root, f)).join(" > "));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

it("shared/ has no runtime import cycles", () => {
  const graph = new Map(sourceFiles(root).map((f) => [f, runtimeImports(f)]));
  expect(graph.size).toBeGreaterThan(50);
  expect([...graph.values()].flat().length).toBeGreaterThan(100); // the walk sees the imports
  expect(cycles(graph)).toEqual([]);
});

it("the cycle finder finds a cycle", () => {
  const at = (name: string) => join(root, name);
  expect(cycles(new Map([[at("a.ts"), [at("b.ts")]], [at("b.ts"), [at("a.ts")]]]))).toEqual(["a.ts > b.ts > a.ts"]);
});
