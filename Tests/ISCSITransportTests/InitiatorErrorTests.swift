import ISCSIProtocol
import ISCSISession
import Testing

@testable import ISCSITransport

/// What an administrator reads when an upstream login fails.
@Suite("Initiator error messages")
struct InitiatorErrorTests {
    let portal = Portal(host: "10.0.0.1", port: 3260)

    @Test func wrongSecretNamesPortalAndAuthenticationFailure() {
        let error = InitiatorError.loginFailed(portal, .status(.authenticationFailure, targetAddress: nil))
        #expect(error.description.hasPrefix("login to 10.0.0.1:3260 failed: authentication failed (login status 0x0201)"))
    }

    @Test func mutualCHAPFailureSaysSo() {
        let error = InitiatorError.loginFailed(portal, .targetAuthenticationFailed("the target's CHAP response for array does not match"))
        #expect(error.description == "login to 10.0.0.1:3260 failed: mutual CHAP authentication failed: the target's CHAP response for array does not match")
    }

    @Test(arguments: [
        (ISCSILoginStatus.authorizationFailure, "authorization failure", "0x0202"),
        (.notFound, "target not found", "0x0203"),
        (.outOfResources, "target out of resources", "0x0302"),
        (ISCSILoginStatus(statusClass: 2, detail: 0x20), "status class 2, detail 32", "0x0220"),
    ])
    func statusReasons(status: ISCSILoginStatus, reason: String, code: String) {
        #expect(status.reason.hasPrefix(reason))
        #expect(status.code == code)
        #expect(InitiatorError.loginFailed(portal, .status(status, targetAddress: nil)).description.contains("(login status \(code))"))
    }
}
