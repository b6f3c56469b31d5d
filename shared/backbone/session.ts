/** A backbone loaded into an onnxruntime session: validated batches in, hidden states out. */
import type { InferenceSession } from "onnxruntime-common";
import type { SplitModel } from "../graph/graph-builder.js";
import { validateAdapter, type LoraAdapter, type LoraTarget } from "../lora/adapter.js";
import { stackAdapters, type FloatInput } from "../lora/stack.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import type { Tensor } from "../tensor/tensor.js";
import { checkBatch, InputError, type BatchLimits, type TokenBatch } from "./inputs.js";

export interface ForwardResult {
  /** [batch, sequence, hidden] float32. */
  sequenceOutput: Tensor;
  /** Present when the session was built with `hiddenStates: true`. */
  hiddenStates?: Tensor[];
}

export interface ForwardOptions {
  /** Adapters this batch uses (LoRA sessions only). Default: the backbone's own adapter, if any. */
  adapters?: readonly LoraAdapter[];
  /**
   * Per row: index into `adapters`, or null / -1 for the base model. Default: every row uses the only
   * adapter (or none when there is none).
   */
  adapterIds?: ArrayLike<number | null>;
}

interface LoraSetup {
  targets: readonly LoraTarget[];
  defaultAdapter: LoraAdapter | null;
}

/** Stacked adapter inputs are cached per adapter combination: switching back costs nothing. */
const STACK_CACHE_SIZE = 4;
const adapterKeys = new WeakMap<LoraAdapter, number>();
let nextAdapterKey = 0;

export class BackboneSession {
  private readonly validated = new WeakSet<LoraAdapter>();
  private readonly stacks = new Map<string, Map<string, FloatInput>>();

  private constructor(
    readonly runtime: OnnxRuntime,
    private readonly session: InferenceSession,
    private readonly limits: BatchLimits,
    private readonly lora: LoraSetup | null,
  ) {}

  static async create(limits: BatchLimits, runtime: OnnxRuntime, model: Uint8Array | SplitModel, lora: LoraSetup | null = null): Promise<BackboneSession> {
    let session: InferenceSession;
    if (model instanceof Uint8Array) session = await runtime.ort.InferenceSession.create(model, runtime.sessionOptions);
    else if (runtime.createSplitSession) session = await runtime.createSplitSession(model);
    else throw new Error(`the ${runtime.name} runtime cannot load ONNX external data (${(model.externalData.bytes / 2 ** 30).toFixed(2)} GiB of weights); use onnxruntime-node`);
    return new BackboneSession(runtime, session, { vocabularySize: limits.vocabularySize, maxSequenceLength: limits.maxSequenceLength }, lora);
  }

  /** True when the session takes adapters as inputs. */
  get acceptsAdapters(): boolean {
    return this.lora !== null;
  }

  async forward(batch: TokenBatch, options: ForwardOptions = {}): Promise<ForwardResult> {
    checkBatch(batch, this.limits);
    const { Tensor: OrtTensor } = this.runtime.ort;
    const shape = [batch.batchSize, batch.sequenceLength];
    const feeds: Record<string, InstanceType<typeof OrtTensor>> = {
      token_ids: new OrtTensor("int32", batch.tokenIds, shape),
      padding_mask: new OrtTensor("int32", batch.paddingMask, shape),
    };
    if (this.lora) {
      const { ids, inputs } = this.adapterInputs(batch.batchSize, options);
      feeds.adapter_ids = new OrtTensor("int32", ids, [batch.batchSize]);
      for (const [name, { data, dims }] of inputs) feeds[name] = new OrtTensor("float32", data, dims);
    } else if (options.adapters?.length || options.adapterIds) {
      throw new InputError("this session was built without LoRA inputs: create it with { lora: true } to use adapters");
    }
    const outputs = await this.session.run(feeds);
    const toTensor = (name: string): Tensor => {
      const value = outputs[name];
      return { dtype: "float32", shape: value.dims.map(Number), data: value.data as Float32Array };
    };
    const hiddenNames = this.session.outputNames.filter((n) => n.startsWith("hidden_states."));
    return {
      sequenceOutput: toTensor("sequence_output"),
      ...(hiddenNames.length ? { hiddenStates: hiddenNames.map(toTensor) } : {}),
    };
  }

  private adapterInputs(batchSize: number, options: ForwardOptions): { ids: Int32Array; inputs: Map<string, FloatInput> } {
    const { targets, defaultAdapter } = this.lora!;
    const adapters = options.adapters ?? (defaultAdapter ? [defaultAdapter] : []);
    for (const adapter of adapters) {
      if (!this.validated.has(adapter)) {
        validateAdapter(adapter, targets);
        this.validated.add(adapter);
      }
    }
    const ids = new Int32Array(batchSize);
    if (options.adapterIds) {
      if (options.adapterIds.length !== batchSize) throw new InputError(`adapterIds has ${options.adapterIds.length} entries for a batch of ${batchSize}`);
      for (let b = 0; b < batchSize; b++) {
        const id = options.adapterIds[b];
        if (id === null || id === -1) continue; // slot 0: no adapter
        if (!Number.isInteger(id) || id < 0 || id >= adapters.length) throw new InputError(`adapterIds[${b}] = ${id} does not name one of the ${adapters.length} adapters`);
        ids[b] = id + 1;
      }
    } else if (adapters.length === 1) {
      ids.fill(1);
    } else if (adapters.length > 1) {
      throw new InputError(`${adapters.length} adapters given without adapterIds to say which row uses which`);
    }

    const key = adapters.map((a) => adapterKeys.get(a) ?? (adapterKeys.set(a, nextAdapterKey++), adapterKeys.get(a))).join(",");
    let inputs = this.stacks.get(key);
    if (!inputs) {
      inputs = stackAdapters(targets, adapters);
      if (this.stacks.size >= STACK_CACHE_SIZE) this.stacks.delete(this.stacks.keys().next().value!);
    } else {
      this.stacks.delete(key); // re-insert: most recently used last
    }
    this.stacks.set(key, inputs);
    return { ids, inputs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
