// The memory store's reservation table (src/util/id-table.ts): its memory once emptied. The survivors of issue 25 that
// change no answer (metered-path pins those) but how much the table keeps: a burst of reservations must not leave a
// process holding the burst's table for good. Read from its private field; each test was run against its mutants,
// applied by hand.
import { IdTable } from '../../src/util/id-table';

const slots = (table: IdTable<number>): number => (table as unknown as { ids: Float64Array }).ids.length;

function filled(count: number): IdTable<number> {
  const table = new IdTable<number>();
  for (let id = 1; id <= count; id += 1) table.set(id, id);
  return table;
}

// Mutants: delete()'s shrink (`count === 0 && length > 1024`: never, `>= 1024`, `count === 0` → true).
test('a table grown past 1,024 slots goes back to 64 once empty, and keeps its slots while it holds any entry', () => {
  const table = filled(600); // 2,048 slots
  expect(slots(table)).toBe(2_048);
  for (let id = 1; id < 600; id += 1) table.delete(id);
  expect(slots(table)).toBe(2_048);
  expect(table.get(600)).toBe(600);
  table.delete(600);
  expect(table.size).toBe(0);
  expect(slots(table)).toBe(64);
  table.set(7, 7);
  expect(table.get(7)).toBe(7);
});

test('a table of 1,024 slots, emptied, keeps them (a steady load under 512 does not resize back and forth)', () => {
  const table = filled(500); // 1,024 slots
  expect(slots(table)).toBe(1_024);
  for (let id = 1; id <= 500; id += 1) table.delete(id);
  expect(slots(table)).toBe(1_024);
});

// Mutants: `new Array(capacity)` → `new Array()` (the constructor, clear() and resize()): the values then grew by
// appends, allocating as reservations came, where the table promises to allocate nothing once grown.
test('the values are allocated at the capacity of the table: new, cleared, grown and shrunk', () => {
  const values = (table: IdTable<number>): number => (table as unknown as { values: unknown[] }).values.length;
  const table = new IdTable<number>();
  expect(values(table)).toBe(64);
  for (let id = 1; id <= 600; id += 1) table.set(id, id);
  expect(values(table)).toBe(2_048);
  for (let id = 1; id <= 600; id += 1) table.delete(id);
  expect(values(table)).toBe(64);
  table.set(1, 1);
  table.clear();
  expect(values(table)).toBe(64);
});
