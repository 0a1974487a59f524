//! Why a patch was refused, with what the API server puts in its Status: the HTTP code, the
//! reason and the message, each as `handlers/patch.go` chooses them.

/// Why a PATCH failed; [`PatchError::code`], [`PatchError::reason`] and the `Display` message
/// are the Status the API server answers with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body is not JSON, or not JSON of the shape the patch type needs (400 BadRequest);
    /// the message is Go's (`json: cannot unmarshal object into Go value of type
    /// jsonpatch.Patch`, `invalid character 'x' looking for beginning of value`, `Invalid
    /// JSON Patch` for a merge patch).
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the API server reads (413; `MaxRequestBodyBytes`).
    #[error("Request entity too large: limit is {limit}")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A JSON patch with more operations than the API server applies (413).
    #[error(
        "Request entity too large: The allowed maximum operations in a JSON patch is {max}, got {got}"
    )]
    TooManyOperations {
        /// The limit.
        max: usize,
        /// How many the patch has.
        got: usize,
    },
    /// A JSON patch operation failed (422 Invalid). The API server answers with a generic
    /// message; `detail` is the jsonpatch library's own (`add operation does not apply: doc is
    /// missing path: "/spec/x": missing value`), kept for logs.
    #[error("the server rejected our request due to an error in our request")]
    OperationFailed {
        /// evanphx/json-patch's message.
        detail: String,
    },
    /// The patched document is not an object of the kind (422 Invalid), as when a merge patch
    /// body is a list: the API server fails to decode it.
    #[error(" \"\" is invalid: patch: Invalid value: {value}: {detail}")]
    NotAnObject {
        /// The patched JSON, quoted as Go's `%q` quotes it.
        value: String,
        /// The decoder's message.
        detail: String,
    },
    /// A JSON patch that would build an object nested deeper than we allow (400). The API
    /// server has no such limit; it keeps a patch from building what cannot be walked safely.
    #[error("the patched object would nest deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// The strategic merge patch failed; the message is the error's own, except for the
    /// 422s, which the API server answers with its generic message.
    #[error("{}", strategic_message(.0))]
    Strategic(#[from] StrategicError),
}

/// The Status message of a strategic merge error: `NewGenericServerResponse` drops the
/// error's text for a 422.
fn strategic_message(e: &StrategicError) -> String {
    if e.code() == 422 {
        GENERIC_422.to_owned()
    } else {
        e.to_string()
    }
}

/// The message of `NewGenericServerResponse(422, ...)`.
const GENERIC_422: &str = "the server rejected our request due to an error in our request";

impl PatchError {
    /// The HTTP status code of the API server's answer.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) | PatchError::TooDeep { .. } => 400,
            PatchError::BodyTooLarge { .. } | PatchError::TooManyOperations { .. } => 413,
            PatchError::OperationFailed { .. } | PatchError::NotAnObject { .. } => 422,
            PatchError::Strategic(e) => e.code(),
        }
    }

    /// The Status reason (`BadRequest`, `RequestEntityTooLarge`, `Invalid`; `""`, Go's
    /// `StatusReasonUnknown`, for a strategic merge error the API server does not classify).
    pub fn reason(&self) -> &'static str {
        match self.code() {
            400 => "BadRequest",
            413 => "RequestEntityTooLarge",
            422 => "Invalid",
            _ => "",
        }
    }
}

/// Why a strategic merge patch could not be applied: the errors of apimachinery's
/// `mergepatch` and `strategicpatch` packages, worded as they word them.
///
/// `interpretStrategicMergePatchError` in `handlers/patch.go` makes the malformed-directive
/// ones 400 BadRequest and lists of lists 422; everything else reaches the client as a 500
/// whose message is the error's own (`Error from server: map: map[image:x] does not contain
/// declared merge key: name`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrategicError {
    /// `mergepatch.ErrBadJSONDoc` (400): the original is not a JSON object.
    #[error("invalid JSON document")]
    BadJsonDoc,
    /// `mergepatch.ErrNoListOfLists` (422).
    #[error("lists of lists are not supported")]
    NoListOfLists,
    /// `mergepatch.ErrBadPatchFormatForPrimitiveList` (400): a `$deleteFromPrimitiveList`
    /// key without `/field`.
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    /// `mergepatch.ErrBadPatchFormatForRetainKeys` (400): `$retainKeys` is not a list, or the
    /// patch sets a field it does not list.
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    /// `mergepatch.ErrBadPatchFormatForSetElementOrderList` (400): a `$setElementOrder` key
    /// without `/field`.
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    /// `mergepatch.ErrNoMergeKey` (500): a list item without the list's merge key.
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey {
        /// The item, as Go's `%v` prints it.
        map: String,
        /// The merge key.
        key: String,
    },
    /// `mergepatch.ErrBadArgType` (500): a value of the wrong JSON type where a directive
    /// needs a list or a map.
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        /// The Go type wanted.
        expected: &'static str,
        /// The Go type found.
        actual: &'static str,
    },
    /// `mergepatch.ErrBadPatchType` (500): `$patch` is not `replace` or `delete` (a map) or
    /// also not `merge` (a list item).
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType {
        /// The directive's value.
        directive: String,
        /// The map it is in.
        map: String,
    },
    /// `$patch: merge` in a list item (500).
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// `$setElementOrder` names the patch's items in another order, or not all of them (500).
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    OrderMismatch {
        /// The patch's list.
        patch: String,
        /// The `$setElementOrder` list.
        order: String,
    },
    /// A list the merge key is looked up in has an item that is not a map (500).
    #[error("value for key {index} is not a map")]
    NotAMap {
        /// The item's index.
        index: usize,
    },
    /// A merging list of maps without a merge key (500).
    #[error("cannot merge lists without merge key for {name}")]
    NoMergeKeyForList {
        /// The item type's name.
        name: String,
    },
    /// A list whose items have different JSON types (500).
    #[error("list element types are not identical: {lists}")]
    ElementTypesDiffer {
        /// The lists, as Go's `%v` prints them.
        lists: String,
    },
    /// `$setElementOrder` for a list that is empty in the object and the patch (500).
    #[error("no elements in any of the given slices")]
    NoElements,
    /// `$patch` is not a string in a document being diffed (500).
    #[error("invalid value for special key: $patch")]
    InvalidDirectiveValue,
    /// A patch strategy the merge does not know (500); only a test schema can have one.
    #[error("unexpected patch strategy: {strategies}")]
    UnexpectedPatchStrategy {
        /// The strategies, as Go's `%v` prints a string slice.
        strategies: String,
    },
    /// The object or the patch nests deeper than we walk (400); not an apimachinery error.
    #[error("the patch or the object nests deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
}

impl StrategicError {
    /// The HTTP status the API server answers with (`interpretStrategicMergePatchError`).
    pub fn code(&self) -> u16 {
        match self {
            StrategicError::BadJsonDoc
            | StrategicError::BadPatchFormatForPrimitiveList
            | StrategicError::BadPatchFormatForRetainKeys
            | StrategicError::BadPatchFormatForSetElementOrderList
            | StrategicError::TooDeep { .. } => 400,
            StrategicError::NoListOfLists => 422,
            _ => 500,
        }
    }
}
