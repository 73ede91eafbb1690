// Imported first by main.ts: libuv's thread pool (file I/O, fdatasync, scrypt) has 4 threads by default, which
// would cap how many targets flash at once (a slow disk's fdatasync holds a thread). Read by libuv at its first use.
process.env.UV_THREADPOOL_SIZE ??= '24';
