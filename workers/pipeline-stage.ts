/**
 * One stage of a preset's isolate pipeline (shared/edge/pipeline.ts) as a Durable Object: one instance per preset,
 * stage and replica, named `<preset>/<stage>/<replica>`, holding in memory (no storage) only its part of the edge
 * artifact, loaded from R2 on its first call: rows of the token table (ranged gets; no onnxruntime) or a run of the
 * artifact's stage graphs (the lean loader). The worker (workers/pipeline.ts) calls `lookup` on the embedding shards
 * and `forward` on the block stages, one row at a time, with the hidden states as binary.
 *
 * Isolation: Durable Objects of one class "may share global memory" (Cloudflare), and workerd runs all of a
 * script's objects in one isolate; onnxruntime-web's WebAssembly memory is one per isolate and never shrinks. So a
 * stage does not assume an isolate of its own: before loading, it counts what the isolate already holds
 * (onnxruntime's memory and the token rows of other stages here) and refuses when its own peak would not fit the
 * budget (EDGE_MEMORY_BUDGET_MB); the worker then tries another replica, then the runner pool.
 */
import { DurableObject } from "cloudflare:workers";
import {
  Backbone,
  EdgeEmbedding,
  EdgeModel,
  ISOLATE_ALLOWANCE_BYTES,
  describeStage,
  formatMiB,
  readEdgeManifest,
  stagePeak,
  type LoraAdapter,
  type OnnxRuntime,
} from "../shared/index.js";
import { AsyncLruCache } from "./cache.js";
import { numberVar, type Env } from "./env.js";
import { R2PresetStore } from "./r2-preset-store.js";
import { MiB, adapterBytes, readAdapter } from "./services.js";

/** Which stage of which artifact version a call is for. */
export interface StageCall {
  preset: string;
  stage: number;
  /** The plan's `id`: a stage loaded for another version of the artifact reloads; an unknown one is refused. */
  pipelineId: string;
}

/** The RPC methods of PipelineStage, as the worker calls them. */
export interface PipelineStageRpc {
  /** Token vectors [n, H] of `ids` (all within the shard's rows). */
  lookup(call: StageCall & { ids: Int32Array }): Promise<Float32Array>;
  /** One row [L, H] through the stage's blocks, with the tenant's adapter (its R2 object) if any. */
  forward(call: StageCall & { hidden: Float32Array; paddingMask: Int32Array; adapter: { id: string; r2Key: string } | null }): Promise<Float32Array>;
}

type Part = { kind: "embedding"; table: EdgeEmbedding } | { kind: "blocks"; model: EdgeModel; backbone: Backbone };

/** Bytes of token rows held by the stages of this isolate (they may share it: see the module comment). */
let heldRows = 0;

export function pipelineStageClass(runtime: () => OnnxRuntime) {
  return class PipelineStage extends DurableObject<Env> implements PipelineStageRpc {
    private loaded: { key: string; part: Promise<Part> } | null = null;
    private readonly adapters = new AsyncLruCache<LoraAdapter>(16 * MiB, adapterBytes);

    async lookup(call: StageCall & { ids: Int32Array }): Promise<Float32Array> {
      const part = await this.part(call);
      if (part.kind !== "embedding") throw new Error(`stage ${call.stage} of ${call.preset} holds blocks, not token rows`);
      return part.table.lookup(call.ids);
    }

    async forward(call: Parameters<PipelineStageRpc["forward"]>[0]): Promise<Float32Array> {
      const part = await this.part(call);
      if (part.kind !== "blocks") throw new Error(`stage ${call.stage} of ${call.preset} holds token rows, not blocks`);
      const adapter = call.adapter && (await this.adapters.get(call.adapter.id, () => readAdapter(this.env.BUCKET, call.adapter!.r2Key, part.backbone)));
      return part.model.forwardHidden(call.hidden, call.paddingMask, adapter);
    }

    /** The stage's part, loaded once per (preset, stage, artifact version); a failed load is retried by the next call. */
    private part(call: StageCall): Promise<Part> {
      const key = `${call.preset}/${call.stage}/${call.pipelineId}`;
      if (this.loaded?.key !== key) {
        const previous = this.loaded?.part;
        const part = (async () => {
          await previous?.then(release, () => {});
          return this.load(call);
        })();
        this.loaded = { key, part };
        part.catch(() => {
          if (this.loaded?.part === part) this.loaded = null;
        });
      }
      return this.loaded!.part;
    }

    private async load({ preset, stage: k, pipelineId }: StageCall): Promise<Part> {
      const store = new R2PresetStore(this.env.BUCKET);
      const files = store.open(preset);
      const manifest = await readEdgeManifest(files);
      const plan = manifest?.pipeline;
      if (!plan) throw new Error(`${files.location} has no pipeline plan (reinstalled without one?)`);
      if (plan.id !== pipelineId) throw new Error(`${files.location} holds pipeline ${plan.id}, not ${pipelineId}: the preset was reinstalled`);
      const stage = plan.stages[k];
      if (!stage) throw new Error(`${files.location}'s pipeline has ${plan.stages.length} stages, not ${k + 1}`);
      const budget = numberVar(this.env.EDGE_MEMORY_BUDGET_MB, 128) * MiB;
      const wasm = runtime().memoryBytes?.() ?? 0;
      const need = stagePeak(stage);
      if (wasm + heldRows + need > budget) {
        throw new Error(
          `${describeStage(plan, k)} of ${preset} needs ${formatMiB(need)}, and this isolate already holds ${formatMiB(wasm)} of onnxruntime memory and ${formatMiB(heldRows)} of other stages' token rows: ` +
            `over the ${formatMiB(budget)} budget (Durable Objects of one class may share an isolate)`,
        );
      }
      if (stage.kind === "embedding") {
        const table = await EdgeEmbedding.load(files, manifest, stage.rows);
        heldRows += table.bytes;
        return { kind: "embedding", table };
      }
      const backbone = await Backbone.fromPreset(preset, { store, loadWeights: false });
      const model = await EdgeModel.load(files, backbone, runtime(), { stages: stage.stages, memoryLimitBytes: budget - heldRows - ISOLATE_ALLOWANCE_BYTES });
      return { kind: "blocks", model, backbone };
    }
  };
}

async function release(part: Part): Promise<void> {
  if (part.kind === "embedding") heldRows -= part.table.bytes;
  else await part.model.release();
}
