/**
 * A tiny XML writer for EC2 Query responses. EC2 shapes map onto plain values: a structure is an
 * object whose keys are the element names, a list is an array whose members are written as
 * `<item>` (EC2 never uses another member name in its responses), and `undefined` leaves the element
 * out, as EC2 does for unset optional members.
 */
export type XmlValue = string | number | boolean | Date | undefined | XmlValue[] | XmlStruct;
export interface XmlStruct {
  readonly [element: string]: XmlValue;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderValue(value: XmlValue): string {
  if (value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((member) => element("item", member)).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([name, child]) => element(name, child))
      .join("");
  }
  return escapeXml(String(value));
}

export function element(name: string, value: XmlValue): string {
  if (value === undefined) return "";
  return `<${name}>${renderValue(value)}</${name}>`;
}

/** A whole document: `<root xmlns="...">children</root>` with the XML declaration EC2 sends. */
export function xmlDocument(root: string, namespace: string | undefined, children: XmlStruct): string {
  const xmlns = namespace === undefined ? "" : ` xmlns="${namespace}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${xmlns}>${renderValue(children)}</${root}>`;
}
