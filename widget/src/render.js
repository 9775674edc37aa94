// Safe rendering: every string from the bot, an agent or the customer becomes text nodes.
// Nothing is ever parsed as HTML; a link is an <a> only when it parses as http(s).

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]]+$/;

/** Create an element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** The URL when it is a well-formed http(s) address, else null. */
export function safeHref(candidate) {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Text with http(s) links made clickable, as a DocumentFragment of text nodes and anchors. */
export function richText(text) {
  const fragment = document.createDocumentFragment();
  const value = String(text ?? "");
  let last = 0;
  for (const match of value.matchAll(URL_PATTERN)) {
    let raw = match[0];
    const trailing = raw.match(TRAILING);
    if (trailing) raw = raw.slice(0, -trailing[0].length);
    const href = safeHref(raw);
    if (!href) continue;
    fragment.append(document.createTextNode(value.slice(last, match.index)));
    fragment.append(el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, raw));
    last = match.index + raw.length;
  }
  fragment.append(document.createTextNode(value.slice(last)));
  return fragment;
}

/** "14:05" in the reader's locale, from unix seconds. */
export function clock(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
