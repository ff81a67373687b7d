/// What an application answered to one request: its STDOUT and STDERR streams, and END_REQUEST's two statuses.
package struct FastCGIResponse: Equatable, Sendable {
    package var stdout: [UInt8] = []
    package var stderr: [UInt8] = []
    /// The application's exit status, as it gave it in END_REQUEST.
    package var applicationStatus: UInt32 = 0
    /// 0 when the request was served; 1 to 3 when the application refused it (FCGI_CANT_MPX_CONN,
    /// FCGI_OVERLOADED, FCGI_UNKNOWN_ROLE).
    package var protocolStatus: UInt8 = 0

    package init(stdout: [UInt8] = [], stderr: [UInt8] = [], applicationStatus: UInt32 = 0, protocolStatus: UInt8 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.applicationStatus = applicationStatus
        self.protocolStatus = protocolStatus
    }
}
