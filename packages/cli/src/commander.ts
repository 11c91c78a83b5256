/**
 * commander (with its extra typings), as the CLI imports it. At build time
 * scripts/bundle-libs.mjs replaces the compiled file with one ES module holding commander
 * itself: loaded through Node's CommonJS loader it was nine files and ≈5 ms of every start-up.
 * Tests import this source, which re-exports the package unchanged.
 */
export * from '@commander-js/extra-typings';
