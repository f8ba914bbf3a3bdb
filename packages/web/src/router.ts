// A small history router: the app's pages are plain paths (the node answers index.html for
// any of them), so links can be bookmarked and reloaded. A copy of the app opened from a file
// or a static host (docs/web.md "Using a copy you trust") keeps the page in the fragment
// (`index.html#/records`) instead, since nothing there answers index.html for other paths.
import { useEffect, useState } from 'react';
import { servedByNode } from './node-url.js';

let navigated = false;
const inFragment = !servedByNode;
let lastPath = '/';

/**
 * The app path in the address bar. In a copy, a fragment that is no app path (the skip
 * link's `#main`) leaves the page where it was.
 */
function currentPath(): string {
  if (!inFragment) return location.pathname;
  if (location.hash.startsWith('#/')) lastPath = location.hash.slice(1);
  return lastPath;
}

/** The href of an app path: itself, or `#/path` in a copy. */
export function hrefFor(path: string): string {
  return inFragment ? `#${path}` : path;
}

/** Whether the user has moved within the app since it loaded (then page headings take focus). */
export function hasNavigated(): boolean {
  return navigated;
}

export function navigate(path: string): void {
  if (inFragment ? path === currentPath() : path === location.pathname + location.search) return;
  navigated = true;
  history.pushState(null, '', hrefFor(path));
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current path, updated on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const onPop = () => {
      navigated = true;
      setPath(currentPath());
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return path;
}

/** Match `/a/:x/b` against a path; the named parts, or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i] as string;
    const seg = s[i] as string;
    if (part.startsWith(':')) out[part.slice(1)] = decodeURIComponent(seg);
    else if (part !== seg) return undefined;
  }
  return out;
}
