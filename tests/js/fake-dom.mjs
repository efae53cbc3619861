// A sliver of the DOM for tests in node: elements in a tree, with the
// members ui/daylist.js uses (children and siblings, append, insertBefore,
// remove, replaceChildren, className, id, dataset, attributes, text).

class FakeElement {
  constructor(ownerDocument, tag) {
    this.ownerDocument = ownerDocument;
    this.tagName = tag.toUpperCase();
    this.parentElement = null;
    this.children = [];
    this.className = "";
    this.id = "";
    this.dataset = {};
    this.attributes = new Map();
    this.ownText = "";
  }

  get textContent() {
    return this.ownText + this.children.map((child) => child.textContent).join("");
  }

  set textContent(text) {
    this.replaceChildren();
    this.ownText = String(text);
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }

  get firstElementChild() {
    return this.children[0] ?? null;
  }

  get lastElementChild() {
    return this.children[this.children.length - 1] ?? null;
  }

  get nextElementSibling() {
    const siblings = this.parentElement?.children ?? [];
    return siblings[siblings.indexOf(this) + 1] ?? null;
  }

  get previousElementSibling() {
    const siblings = this.parentElement?.children ?? [];
    const index = siblings.indexOf(this);
    return index > 0 ? siblings[index - 1] : null;
  }

  insertBefore(node, reference) {
    node.remove();
    const index = reference === null ? this.children.length : this.children.indexOf(reference);
    if (index < 0) {
      throw new Error("insertBefore: the reference is not a child");
    }
    this.children.splice(index, 0, node);
    node.parentElement = this;
    return node;
  }

  append(...nodes) {
    for (const node of nodes) {
      this.insertBefore(node, null);
    }
  }

  remove() {
    if (this.parentElement !== null) {
      const siblings = this.parentElement.children;
      siblings.splice(siblings.indexOf(this), 1);
      this.parentElement = null;
    }
  }

  replaceChildren(...nodes) {
    for (const child of [...this.children]) {
      child.remove();
    }
    this.append(...nodes);
  }
}

export function fakeDocument() {
  const document = {
    createElement: (tag) => new FakeElement(document, tag),
  };
  return document;
}
