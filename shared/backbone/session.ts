/** A backbone loaded into an onnxruntime session: validated batches in, hidden states out. */
import type { InferenceSession } from "onnxruntime-common";
import type { SplitModel } from "../graph/graph-builder.js";
import type { LoraAdapter, LoraTarget } from "../lora/adapter.js";
import { AdapterFeeds, type AdapterChoice } from "../lora/stack.js";
import type { OnnxRuntime } from "../runtime/runtime.js";
import type { Tensor } from "../tensor/tensor.js";
import { checkBatch, InputError, type BatchLimits, type TokenBatch } from "./inputs.js";

export interface ForwardResult {
  /** [batch, sequence, hidden] float32. */
  sequenceOutput: Tensor;
  /** Present when the session was built with `hiddenStates: true`. */
  hiddenStates?: Tensor[];
}

/** Which adapters the rows of a batch use (LoRA sessions only). */
export type ForwardOptions = AdapterChoice;

interface LoraSetup {
  targets: readonly LoraTarget[];
  defaultAdapter: LoraAdapter | null;
}

export class BackboneSession {
  private readonly lora: AdapterFeeds | null;

  private constructor(
    readonly runtime: OnnxRuntime,
    private readonly session: InferenceSession,
    private readonly limits: BatchLimits,
    lora: LoraSetup | null,
  ) {
    this.lora = lora ? new AdapterFeeds(lora.targets, lora.defaultAdapter) : null;
  }

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
      const { ids, inputs } = this.lora.feeds(batch.batchSize, options);
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

  async release(): Promise<void> {
    await this.session.release();
  }
}
