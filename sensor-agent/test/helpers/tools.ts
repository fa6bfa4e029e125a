/** The shared test helpers for system tools and free ports (implemented once, in the repository's test/helpers). */
export { requireTool, toolPath, freePort } from '../../../test/helpers/tools.ts';
