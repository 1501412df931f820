import type { AdapterModel } from "@paperclipai/adapter-utils";

/** `auto` lets Gemini CLI route each request itself (no `--model`), as in Paperclip's gemini_local. */
export const GEMINI_AUTO_MODEL = "auto";

/** The models Paperclip's gemini_local offers; any other id the Gemini API serves works too. */
export const geminiModels: AdapterModel[] = [
  { id: GEMINI_AUTO_MODEL, label: "Auto" },
  { id: "gemini-3.1-pro-preview", label: "Gemini 3.1 Pro Preview" },
  { id: "gemini-3.1-pro-preview-customtools", label: "Gemini 3.1 Pro Preview (Custom Tools)" },
  { id: "gemini-2.5-pro", label: "Gemini 2.5 Pro" },
  { id: "gemini-2.5-flash", label: "Gemini 2.5 Flash" },
  { id: "gemini-2.5-flash-lite", label: "Gemini 2.5 Flash Lite" },
  { id: "gemini-2.0-flash", label: "Gemini 2.0 Flash" },
  { id: "gemini-2.0-flash-lite", label: "Gemini 2.0 Flash Lite" },
];
