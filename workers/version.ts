export const VERSION_INFO = { version: "0.1.0" } as const;
