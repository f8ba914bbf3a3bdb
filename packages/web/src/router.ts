// A small history router: the app's pages are plain paths (the node answers index.html for
// any of them), so links can be bookmarked and reloaded.
import { useEffect, useState } from 'react';

let navigated = false;

/** Whether the user has moved within the app since it loaded (then page headings take focus). */
export function hasNavigated(): boolean {
  return navigated;
}

export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  navigated = true;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current path, updated on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => {
      navigated = true;
      setPath(location.pathname);
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
