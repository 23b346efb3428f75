import { openDatabase } from '../../store/database.ts';
import { otherSlot, RoutePointers } from '../route-pointers.ts';
import { migrateRouting } from '../schema.ts';
import { SwitchHistory } from '../switch-history.ts';

/**
 * Child process for the crash test: switches one user's pointers as fast as it can, each switch
 * with its history row in the same transaction, until it is killed.
 */
const [url, userId] = process.argv.slice(2);
if (!url || !userId) throw new Error('usage: switch-forever.ts DATABASE_URL USER_ID');
const db = openDatabase(url);
migrateRouting(db);
const pointers = new RoutePointers(db);
const history = new SwitchHistory(db);
let announced = false;
for (;;) {
  const before = pointers.get(userId);
  pointers.point(userId, otherSlot(before.main), (from, to) =>
    history.add({ userId, action: 'swap', actor: 'crash-test', at: new Date().toISOString(), fromRole: from.main, fromRelease: null, toRole: to.main, toRelease: null, reason: 'crash test', outcome: 'switched', error: null }),
  );
  if (!announced) {
    process.stdout.write('switching\n');
    announced = true;
  }
}
