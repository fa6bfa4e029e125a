/**
 * The page's first step, taken before the rest of the bundle is evaluated (main.ts imports this module first):
 * the kept token goes into use and the question who the reader is goes out. Setting up the charting library
 * (its first number format loads the browser's locale data) and building the page shell take a while; the
 * answer comes meanwhile, and the first load takes it (loader.ts).
 */
import { useToken } from './api/http.ts';
import { loadToken } from './auth.ts';
import { askMeEarly } from './loader.ts';

/** The token kept in this tab or on this device when the page opened (null: none). */
export const bootToken = loadToken();
useToken(bootToken);
askMeEarly();
