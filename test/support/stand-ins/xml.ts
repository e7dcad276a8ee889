/**
 * Just enough XML for the S3 stand-in: writing S3's response documents and reading the few
 * small request documents S3 clients send (CompleteMultipartUpload, Delete, versioning).
 * Pure functions; not a general XML parser (no attributes, CDATA or namespaces on read).
 */

/** A child element: `[name, text]`, `[name, children]`; `undefined` children are skipped. */
export type XmlNode = readonly [string, string | number | boolean | readonly (XmlNode | undefined)[]];

/** Escapes text for element content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Reverses {@link escapeXml}, including numeric character references. */
export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[ref]!;
  });
}

function render(node: XmlNode): string {
  const [name, content] = node;
  if (Array.isArray(content)) {
    return `<${name}>${(content as readonly (XmlNode | undefined)[]).filter((c): c is XmlNode => c !== undefined).map(render).join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(content))}</${name}>`;
}

/** A complete S3 response document with the S3 namespace on the root element. */
export function s3Document(root: string, children: readonly (XmlNode | undefined)[]): string {
  const inner = children.filter((c): c is XmlNode => c !== undefined).map(render).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
}

/**
 * A complete response document whose root element carries `namespace`, e.g. the awsQuery
 * answers of SNS (`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">`).
 */
export function namespacedDocument(root: string, namespace: string, children: readonly (XmlNode | undefined)[]): string {
  const inner = children.filter((c): c is XmlNode => c !== undefined).map(render).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${escapeXml(namespace)}">${inner}</${root}>`;
}

/** S3's error document (no namespace, as S3 sends it). */
export function s3ErrorDocument(fields: Readonly<Record<string, string | undefined>>): string {
  const inner = Object.entries(fields)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => render([k, v]))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${inner}</Error>`;
}

/** Inner XML of every `<name>...</name>` element in `xml`, in document order (not nested same-name elements). */
export function elements(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>|<${name}(?:\\s[^>]*)?/>`, 'g');
  return [...xml.matchAll(pattern)].map((m) => m[1] ?? '');
}

/** Unescaped text of the first `<name>` element, or undefined. */
export function text(xml: string, name: string): string | undefined {
  const found = elements(xml, name)[0];
  return found === undefined ? undefined : unescapeXml(found.trim());
}
