/**
 * Renders a kustomization offline, for CI: kustomize has no npm package and Debian bookworm has none either, so
 * this implements exactly the subset deploy/kubernetes uses — `resources` (files and directories), `namespace`,
 * `images`, and strategic-merge `patches` — and refuses any other field rather than ignore it. Where a `kubectl`
 * or `kustomize` binary exists, the manifests test checks that the real tool renders the same objects.
 *
 * Strategic merge, as kustomize applies it to the fields these manifests patch: maps merge key by key, `null`
 * deletes, lists of containers / env / volumes / volume mounts merge by `name` (items only in the patch first),
 * any other list is replaced.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> };

interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "resources", "namespace", "images", "patches"]);
const MERGE_BY_NAME = new Set(["containers", "initContainers", "env", "volumes", "volumeMounts"]);

export function readYamlDocuments(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, "utf8")).map((doc) => {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
    return doc.toJS() as Manifest;
  });
}

export function kustomize(dir: string): Manifest[] {
  const file = join(dir, "kustomization.yaml");
  const k = readYamlDocuments(file)[0] as unknown as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${file}: ${unsupported.join(", ")} not supported by this renderer (test/helpers/kustomize.ts)`);
  let objects = (k.resources ?? []).flatMap((r) => {
    const path = join(dir, r);
    return statSync(path).isDirectory() ? kustomize(path) : readYamlDocuments(path);
  });
  for (const { path } of k.patches ?? []) {
    for (const patch of readYamlDocuments(join(dir, path))) {
      const i = objects.findIndex((o) => o.apiVersion === patch.apiVersion && o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${join(dir, path)}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[i] = merge(objects[i], patch) as Manifest;
    }
  }
  if (k.namespace) objects = objects.map((o) => withNamespace(o, k.namespace!));
  for (const image of k.images ?? []) for (const o of objects) for (const c of containersOf(o)) c.image = retag(c.image, image);
  return objects;
}

function merge(base: unknown, patch: unknown, key = ""): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch) && Array.isArray(base) && MERGE_BY_NAME.has(key)) {
    const out = base.map((item) => {
      const update = patch.find((p) => p.name === item.name);
      return update ? merge(item, update) : item;
    });
    // new items come first, as kustomize orders them
    return [...patch.filter((p) => !base.some((b) => b.name === p.name)), ...out];
  }
  if (isMap(patch) && isMap(base)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      const merged = merge(base[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Namespaces every object and the service accounts its role bindings name, as kustomize's namespace field does. */
function withNamespace(o: Manifest, namespace: string): Manifest {
  const out = { ...o, metadata: { ...o.metadata, namespace } } as Manifest;
  const subjects = out.subjects as { kind: string; namespace?: string }[] | undefined;
  if (subjects) out.subjects = subjects.map((s) => (s.kind === "ServiceAccount" ? { ...s, namespace } : s));
  return out;
}

function containersOf(o: Manifest): { image: string }[] {
  const spec = (o.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  return spec ? [...((spec.containers as { image: string }[]) ?? []), ...((spec.initContainers as { image: string }[]) ?? [])] : [];
}

function retag(image: string, rule: NonNullable<Kustomization["images"]>[number]): string {
  const m = /^(.*?)(?::([^:/@]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image)!;
  if (m[1] !== rule.name) return image;
  const name = rule.newName ?? m[1];
  if (rule.digest) return `${name}@${rule.digest}`;
  return `${name}:${rule.newTag ?? m[2] ?? "latest"}`;
}

/** `kind/namespace/name` → object, for comparing renderings regardless of order. */
export const byIdentity = (objects: Manifest[]) => new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));

