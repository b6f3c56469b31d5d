/**
 * The Node preset downloader: hf:// from the Hugging Face Hub, kaggle:// and built-in names (their Kaggle
 * handles, as KerasHub's preset table has them) from Kaggle Models. Settings are read from the environment
 * at each download (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_OFFLINE, KAGGLE_USERNAME, KAGGLEHUB_CACHE, …).
 */
import type { HubHandle, PresetDownloader, PresetParts } from "../../presets/hub.js";
import type { PresetFiles } from "../../presets/store.js";
import { directoryFiles } from "../fs-preset-store.js";
import { hfConfigFromEnv, HfHub } from "./hf.js";
import { kaggleConfigFromEnv, KaggleHub } from "./kaggle.js";
import { Progress } from "./progress.js";

export function hubDownloader(): PresetDownloader {
  return {
    async download(handle: HubHandle, parts: PresetParts): Promise<PresetFiles> {
      const source = handle.kind === "builtin" ? handle.info.kaggleHandle : handle.handle;
      const progress = new Progress(source);
      try {
        if (handle.kind === "hf") return directoryFiles(await new HfHub(hfConfigFromEnv(), progress).snapshot(handle.repo, handle.revision, parts));
        const path = handle.kind === "kaggle" ? handle.path : handle.info.kaggleHandle.slice("kaggle://".length);
        return directoryFiles(await new KaggleHub(kaggleConfigFromEnv(), progress).model(path, parts));
      } finally {
        progress.close();
      }
    },
  };
}
