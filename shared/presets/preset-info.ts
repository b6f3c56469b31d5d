/** A built-in preset, as registered by KerasHub's `*_presets.py` (spec §5). */
export interface PresetInfo {
  /** Built-in preset name, e.g. "gemma_2b_en". */
  name: string;
  /** KerasHub backbone class name: "GemmaBackbone" | "DistilBertBackbone" | "RobertaBackbone" | "XLMRobertaBackbone". */
  className: string;
  /** The description string, verbatim from keras-hub's *_presets.py metadata["description"]. */
  description: string;
  /** Parameter count verbatim from keras-hub's *_presets.py metadata["params"]. */
  params: number;
  /** Kaggle handle verbatim, e.g. "kaggle://keras/gemma/keras/gemma_2b_en/2". */
  kaggleHandle: string;
  /** Backbone constructor config, snake_case keys exactly as KerasHub get_config() (without name/trainable/dtype). */
  config: Record<string, number | boolean | null>;
}

/** Formats a parameter count the way the KerasHub preset tables do (66.36M, 2.51B). */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}K`;
  return String(n);
}
