/**
 * A Dockerfile read with dockerfile-ast (the parser behind VS Code's Docker support) into stages with their
 * resolved base images and instructions, so tests can lint it and run its command with its environment.
 */
import { readFileSync } from "node:fs";
import { DockerfileParser, Env } from "dockerfile-ast";

export interface Instruction {
  keyword: string;
  /** Arguments as written, continuation lines joined. */
  args: string;
  /** `KEY=value` pairs of ENV. */
  properties: [string, string][];
}

export interface Stage {
  name: string | null;
  /** Base image or earlier stage, with ARG defaults substituted. */
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARG defaults declared before the first FROM. */
  args: Record<string, string>;
  stages: Stage[];
}

const substitute = (text: string, vars: Record<string, string>) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a, b) => vars[a ?? b] ?? all);

/** Parses the file; `buildArgs` override the ARG defaults (`--build-arg`). */
export function readDockerfile(path: string, buildArgs: Record<string, string> = {}): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(readFileSync(path, "utf8"));
  const args: Record<string, string> = {};
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) args[property.getName()] = buildArgs[property.getName()] ?? property.getValue() ?? "";
  }
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const text = instruction.getArgumentsContent() ?? "";
    if (keyword === "FROM") {
      const [image, , name] = text.split(/\s+/);
      stages.push({ name: name ?? null, from: substitute(image, args), instructions: [] });
      continue;
    }
    const properties = instruction instanceof Env ? instruction.getProperties().map((p): [string, string] => [p.getName(), p.getValue() ?? ""]) : [];
    stages.at(-1)?.instructions.push({ keyword, args: text, properties });
  }
  return { args, stages };
}

/** The stage by name (or the last one), following `FROM <earlier stage>` for what it inherits. */
export function stageChain(df: ParsedDockerfile, name?: string): Stage[] {
  const chain: Stage[] = [];
  let stage = name === undefined ? df.stages.at(-1) : df.stages.find((s) => s.name === name);
  while (stage) {
    chain.unshift(stage);
    stage = df.stages.find((s) => s.name === stage!.from);
  }
  return chain;
}

/** Instructions of a stage and the stages it is built on, oldest first. */
export const stageInstructions = (df: ParsedDockerfile, name?: string) => stageChain(df, name).flatMap((s) => s.instructions);

/** ENV in effect in a stage (later values win). */
export function stageEnv(df: ParsedDockerfile, name?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stageInstructions(df, name)) if (i.keyword === "ENV") for (const [k, v] of i.properties) env[k] = v;
  return env;
}

/** The last instruction of a kind in a stage's chain, or undefined. */
export const lastInstruction = (df: ParsedDockerfile, keyword: string, name?: string) => stageInstructions(df, name).filter((i) => i.keyword === keyword).at(-1);

/** `["a", "b"]` exec form → argv; throws on shell form (signals would go to a shell, not node). */
export function execForm(args: string): string[] {
  const argv = JSON.parse(args) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) throw new Error(`not exec form: ${args}`);
  return argv;
}
