/**
 * `node --conditions=source --import ./fuzz/ts-loader/register.mjs script` runs a script that
 * imports onnxkit's TypeScript sources directly (see ./hooks.mjs).
 */
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
