/**
 * A tab page made the first time it is needed, not when the dashboard starts: the overview's first figures should
 * not wait for the compare page, the tokens page (admins only), the privacy page or the sensor health page to be
 * built. Each is a dynamic `import()`, which the build inlines into app.js (build.mjs says why it does not split
 * them into chunks), so a page is made when its tab is opened or the overview hands it something to show.
 *
 * The shell places `root` (an empty box that takes no part in the layout) where the page goes; the page's own root
 * is put into it once made. Calls that only matter to a page that exists (a new language, a reset on sign-out,
 * the zone list) go through `now()`; the page is made from the current state, so it misses nothing.
 */
import { el } from './dom.ts';

export class LazyPage<T extends { readonly root: HTMLElement }> {
  readonly root: HTMLElement;
  private page: T | null = null;
  private making: Promise<T> | null = null;

  /** `make` imports the page's module and builds the page from the current state. */
  constructor(
    name: string,
    private readonly make: () => Promise<T>,
  ) {
    this.root = el('div', { class: 'lazy-page', attrs: { 'data-page': name } });
  }

  /** The page, if it was made. */
  now(): T | null {
    return this.page;
  }

  /** The page, made (once) if it was not. */
  get(): Promise<T> {
    this.making ??= this.make().then(
      (page) => {
        this.page = page;
        this.root.replaceChildren(page.root);
        return page;
      },
      (err: unknown) => {
        this.making = null; // a page that failed to be made (e.g. its code could not be fetched) is tried again
        throw err;
      },
    );
    return this.making;
  }
}
