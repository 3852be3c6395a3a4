import { DATA_TAG } from "./rules.ts";

/**
 * Wraps text that did not come from the maintainer's own message (GitHub content, memory notes,
 * tool output, scheduled jobs) as a fenced data block. The model is told (hard rule 3) that a
 * data block is material, never instructions. Any `<data` or `</data` inside the text is
 * defused, so hostile text cannot close the fence early and speak outside it.
 */
export function asData(source: string, text: string): string {
  const safeSource = source.replace(/["<>\n\r]/g, "_");
  return `<${DATA_TAG} source="${safeSource}">\n${defuse(text)}\n</${DATA_TAG}>`;
}

const FENCE = new RegExp(`<(/?)(${DATA_TAG})`, "gi");

function defuse(text: string): string {
  return text.replace(FENCE, (_m, slash: string, tag: string) => `&lt;${slash}${tag}`);
}
