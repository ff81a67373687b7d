#if canImport(Glibc)
import Glibc
#endif

/// A value shared by a worker's threads, behind a pthread mutex.
///
/// Not `Synchronization.Mutex`: on Linux its lock lives in the standard library's Synchronization module, which
/// is not built with ThreadSanitizer, so under `scripts/test-sanitizers thread` every access it guards was reported
/// as a "Swift access race" (the sanitizer cannot see the lock). ThreadSanitizer intercepts pthread_mutex_lock, so
/// with this lock it checks the worker's accesses for real.
final class Guarded<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
