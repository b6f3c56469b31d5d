/**
 * RoBERTa (KerasHub `RobertaBackbone`, spec §4): the shared post-LN encoder with LayerNorm eps 1e-5.
 * The fairseq/HF position offset (+2) is baked into the position table, so positions run 0..T-1.
 */
import { EncoderBackbone, type EncoderArgs } from "../encoder/encoder-backbone.js";

export class RobertaBackbone extends EncoderBackbone {
  static override readonly className: string = "RobertaBackbone";
  static override readonly module: string = "keras_hub.src.models.roberta.roberta_backbone";
  protected readonly embeddingName = "embeddings";
  readonly layerNormEpsilon = 1e-5;

  constructor(args: EncoderArgs, defaultName = "roberta_backbone") {
    super(args, defaultName);
  }

  protected hfAttentionModule(layer: number, projection: "query" | "value"): string {
    return `encoder.layer.${layer}.attention.self.${projection}`;
  }
}

/** XLM-RoBERTa: KerasHub's `XLMRobertaBackbone` adds nothing to RoBERTa but its name (and presets). */
export class XLMRobertaBackbone extends RobertaBackbone {
  static override readonly className: string = "XLMRobertaBackbone";
  static override readonly module: string = "keras_hub.src.models.xlm_roberta.xlm_roberta_backbone";

  constructor(args: EncoderArgs) {
    super(args, "xlm_roberta_backbone");
  }
}
