/**
 * A deliberately small XML reader for the request bodies the proxy inspects (Route53's REST-XML).
 * It handles elements, text, entities, comments, CDATA and the XML declaration; attributes are
 * parsed but only kept as a map. It is not a general-purpose parser.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded). */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) {
      return String.fromCodePoint(parseInt(ent.slice(2), 16));
    }
    if (ent.startsWith('#')) {
      return String.fromCodePoint(parseInt(ent.slice(1), 10));
    }
    return ENTITIES[ent] ?? whole;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Parses a document and returns its root element. Throws on malformed input. */
export function parseXml(doc: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    if (lt < 0) {
      stack[stack.length - 1].text += decodeEntities(doc.slice(i));
      break;
    }
    if (lt > i) {
      stack[stack.length - 1].text += decodeEntities(doc.slice(i, lt));
    }
    if (doc.startsWith('<?', lt)) {
      i = mustFind(doc, '?>', lt) + 2;
    } else if (doc.startsWith('<!--', lt)) {
      i = mustFind(doc, '-->', lt) + 3;
    } else if (doc.startsWith('<![CDATA[', lt)) {
      const end = mustFind(doc, ']]>', lt);
      stack[stack.length - 1].text += doc.slice(lt + 9, end);
      i = end + 3;
    } else if (doc.startsWith('<!', lt)) {
      i = mustFind(doc, '>', lt) + 1;
    } else if (doc.startsWith('</', lt)) {
      const end = mustFind(doc, '>', lt);
      const name = doc.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name || stack.length === 0) {
        throw new Error(`XML: unexpected </${name}> at ${lt}`);
      }
      i = end + 1;
    } else {
      const end = mustFind(doc, '>', lt);
      let inner = doc.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) {
        inner = inner.slice(0, -1);
      }
      const m = /^([^\s/>]+)([\s\S]*)$/.exec(inner.trim());
      if (!m) {
        throw new Error(`XML: bad tag at ${lt}`);
      }
      const attributes: Record<string, string> = {};
      for (const a of m[2].matchAll(/([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
        attributes[a[1]] = decodeEntities(a[3] ?? a[4] ?? '');
      }
      const el: XmlElement = { name: m[1], attributes, children: [], text: '' };
      stack[stack.length - 1].children.push(el);
      if (!selfClosing) {
        stack.push(el);
      }
      i = end + 1;
    }
  }
  if (stack.length !== 1 || root.children.length !== 1) {
    throw new Error('XML: unbalanced document');
  }
  return root.children[0];
}

function mustFind(doc: string, what: string, from: number): number {
  const at = doc.indexOf(what, from);
  if (at < 0) {
    throw new Error(`XML: unterminated construct at ${from}`);
  }
  return at;
}

/** The first child element with this (local) name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => localName(c.name) === name);
}

/** All child elements with this (local) name. */
export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => localName(c.name) === name) : [];
}

/** Text of the first child with this name, or undefined. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon >= 0 ? name.slice(colon + 1) : name;
}
