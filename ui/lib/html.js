// The view layer: Preact with htm tagged templates (no build step).
// Pages write html`<div class=${c}>...</div>` and render(vnode, element).
import { h, render } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
export { h, render };
