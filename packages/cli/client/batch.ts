/**
 * The script of `onnxkit batch -o summary.html`: a click on a column header sorts the table by
 * that column, ascending then descending. Cells with a `data-v` attribute (commands/batch.ts
 * writes the raw number there) sort numerically, cells without one after them; other columns by
 * their text.
 *
 * Browser TypeScript, type-checked (client/tsconfig.json) and linted; scripts/build-client.mjs
 * bundles it into dist/report/batch.js, which the summary page inlines.
 */

/** A cell's number, or null when it has none (a text column, or an unknown value). */
function cellNumber(cell: HTMLTableCellElement | undefined): number | null {
  const v = cell?.dataset.v;
  return v === undefined ? null : Number(v);
}

/** Orders rows by column `column`: numbers first (in `dir`), then by text. */
function compareRows(a: HTMLTableRowElement, b: HTMLTableRowElement, column: number, dir: 1 | -1): number {
  const x = a.cells[column];
  const y = b.cells[column];
  const nx = cellNumber(x);
  const ny = cellNumber(y);
  if (nx !== null || ny !== null) return nx === null ? 1 : ny === null ? -1 : dir * (nx - ny);
  return dir * (x?.textContent ?? '').localeCompare(y?.textContent ?? '');
}

document.querySelectorAll<HTMLTableCellElement>('th').forEach((th, column) =>
  th.addEventListener('click', () => {
    const tbody = document.querySelector('tbody');
    if (!tbody) return;
    const dir: 1 | -1 = th.dataset.dir === 'asc' ? -1 : 1;
    th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    for (const row of [...tbody.rows].sort((a, b) => compareRows(a, b, column, dir))) tbody.appendChild(row);
  }),
);

export {}; // a module (its own scope), with nothing to export
