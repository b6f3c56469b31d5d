/**
 * Turns the adapters of one batch into the serving graph's inputs: for every target, the factors of all
 * adapters stacked along a leading "adapter" axis (slot 0 is "no adapter": zeros), ranks zero-padded to the
 * batch's largest (zero rows/columns add exactly nothing), B pre-multiplied by the adapter's scale.
 */
import { InputError } from "../backbone/inputs.js";
import { toFloat32 } from "../tensor/tensor.js";
import { validateAdapter, type LoraAdapter, type LoraTarget } from "./adapter.js";

export interface FloatInput {
  data: Float32Array;
  dims: number[];
}

/** Graph input names of a target (its kernel path without `/kernel`). */
export function loraInputNames(target: LoraTarget) {
  const p = target.kernelPath.replace(/\/kernel$/, "");
  return { a: `${p}/lora_a`, b: `${p}/lora_b`, flatA: `${p}/lora_flat_a`, flatB: `${p}/lora_flat_b` };
}

function stackAdapters(targets: readonly LoraTarget[], adapters: readonly LoraAdapter[]): Map<string, FloatInput> {
  const slots = adapters.length + 1;
  const maxRank = (layout: string) => Math.max(1, ...adapters.filter((a) => a.layout === layout).map((a) => a.rank));
  const r1 = maxRank("per_head");
  const r2 = maxRank("flat");
  const inputs = new Map<string, FloatInput>();
  for (const t of targets) {
    const { heads: N, headDim: hd, inputDim: H } = t;
    const cols = N * hd;
    const a = new Float32Array(slots * H * N * r1);
    const b = new Float32Array(slots * r1 * hd);
    const fa = new Float32Array(slots * H * r2);
    const fb = new Float32Array(slots * r2 * cols);
    adapters.forEach((adapter, i) => {
      const f = adapter.factors.get(t.kernelPath);
      if (!f) return;
      const slot = i + 1;
      const src = toFloat32(f.a);
      const srcB = toFloat32(f.b);
      const r = f.a.shape[f.a.shape.length - 1];
      if (adapter.layout === "per_head") {
        // Graph layout (H, heads, r1); Gemma's KerasHub A is (heads, H, r).
        const base = slot * H * N * r1;
        for (let h = 0; h < H; h++) {
          for (let n = 0; n < N; n++) {
            const from = (t.headsFirst ? n * H + h : h * N + n) * r;
            a.set(src.subarray(from, from + r), base + (h * N + n) * r1);
          }
        }
        for (let k = 0; k < r; k++) {
          for (let d = 0; d < hd; d++) b[(slot * r1 + k) * hd + d] = srcB[k * hd + d] * adapter.scale;
        }
      } else {
        for (let h = 0; h < H; h++) fa.set(src.subarray(h * r, (h + 1) * r), (slot * H + h) * r2);
        for (let k = 0; k < r; k++) {
          for (let c = 0; c < cols; c++) fb[(slot * r2 + k) * cols + c] = srcB[k * cols + c] * adapter.scale;
        }
      }
    });
    const names = loraInputNames(t);
    inputs.set(names.a, { data: a, dims: [slots, H, N, r1] });
    inputs.set(names.b, { data: b, dims: [slots, r1, hd] });
    inputs.set(names.flatA, { data: fa, dims: [slots, H, r2] });
    inputs.set(names.flatB, { data: fb, dims: [slots, r2, cols] });
  }
  return inputs;
}

export interface AdapterChoice {
  /** Adapters this batch uses. Default: the session's own adapter, if any. */
  adapters?: readonly LoraAdapter[];
  /**
   * Per row: index into `adapters`, or null / -1 for the base model. Default: every row uses the only
   * adapter (or none when there is none).
   */
  adapterIds?: ArrayLike<number | null>;
}

/** Stacked adapter inputs are cached per adapter combination: switching back costs nothing. */
const STACK_CACHE_SIZE = 4;
const adapterKeys = new WeakMap<LoraAdapter, number>();
let nextAdapterKey = 0;

/**
 * The LoRA inputs of a serving graph for one batch: `adapter_ids` (slot per row, 0 = none) and the stacked
 * factors, validated once per adapter and cached per adapter combination.
 */
export class AdapterFeeds {
  private readonly validated = new WeakSet<LoraAdapter>();
  private readonly stacks = new Map<string, Map<string, FloatInput>>();

  constructor(
    private readonly targets: readonly LoraTarget[],
    private readonly defaultAdapter: LoraAdapter | null = null,
  ) {}

  /** The adapter of each row (null: the base model), validated. */
  rowAdapters(batchSize: number, options: AdapterChoice): (LoraAdapter | null)[] {
    const adapters = this.adapters(options);
    if (options.adapterIds) {
      if (options.adapterIds.length !== batchSize) throw new InputError(`adapterIds has ${options.adapterIds.length} entries for a batch of ${batchSize}`);
      return Array.from({ length: batchSize }, (_, b) => {
        const id = options.adapterIds![b];
        if (id === null || id === -1) return null;
        if (!Number.isInteger(id) || id < 0 || id >= adapters.length) throw new InputError(`adapterIds[${b}] = ${id} does not name one of the ${adapters.length} adapters`);
        return adapters[id];
      });
    }
    if (adapters.length > 1) throw new InputError(`${adapters.length} adapters given without adapterIds to say which row uses which`);
    return new Array(batchSize).fill(adapters[0] ?? null);
  }

  feeds(batchSize: number, options: AdapterChoice): { ids: Int32Array; inputs: Map<string, FloatInput> } {
    const adapters = this.adapters(options);
    const rows = this.rowAdapters(batchSize, options);
    const ids = Int32Array.from(rows, (a) => (a === null ? 0 : adapters.indexOf(a) + 1)); // slot 0: no adapter
    const key = adapters.map((a) => adapterKeys.get(a) ?? (adapterKeys.set(a, nextAdapterKey++), adapterKeys.get(a))).join(",");
    let inputs = this.stacks.get(key);
    if (!inputs) {
      inputs = stackAdapters(this.targets, adapters);
      if (this.stacks.size >= STACK_CACHE_SIZE) this.stacks.delete(this.stacks.keys().next().value!);
    } else {
      this.stacks.delete(key); // re-insert: most recently used last
    }
    this.stacks.set(key, inputs);
    return { ids, inputs };
  }

  private adapters(options: AdapterChoice): readonly LoraAdapter[] {
    const adapters = options.adapters ?? (this.defaultAdapter ? [this.defaultAdapter] : []);
    for (const adapter of adapters) {
      if (!this.validated.has(adapter)) {
        validateAdapter(adapter, this.targets);
        this.validated.add(adapter);
      }
    }
    return adapters;
  }
}
