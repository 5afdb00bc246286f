// The autosaved session in IndexedDB: one record ({time, step, methods: {m: {bytes, curve, knn,
// stages}}, random_init, stage_names}), replaced at every autosave. The worker writes it (it
// holds the trainers and decides, by the core's cadence, when); the page reads it to offer it
// back after a reload, and drops it on request.
const DB = { name: 'locolab', store: 'autosave', key: 'session' };

function idb(mode, fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB.name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(DB.store);
    open.onerror = () => reject(open.error ?? new Error('IndexedDB is not available'));
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(DB.store, mode);
      const req = fn(tx.objectStore(DB.store));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error ?? new Error('the IndexedDB transaction failed')); };
    };
  });
}

export const loadSession = () => idb('readonly', (s) => s.get(DB.key));
export const storeSession = (v) => idb('readwrite', (s) => s.put(v, DB.key));
export const dropSession = () => idb('readwrite', (s) => s.delete(DB.key));
