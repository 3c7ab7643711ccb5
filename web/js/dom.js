// A tiny helper to build elements. Text always goes in as textContent, never
// as HTML: names and values come from nodes and must not become markup.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Makes `parent`'s children exactly `wanted` (elements, in order) with few
// DOM operations: those already in place stay, the others are moved in
// (from wherever they are), and what is left over is taken out. A list that
// shifted by one costs two operations, not one per child.
export function syncChildren(parent, wanted) {
  let cur = parent.firstChild;
  for (const node of wanted) {
    if (cur === node) {
      cur = cur.nextSibling;
    } else {
      parent.insertBefore(node, cur);
    }
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}
