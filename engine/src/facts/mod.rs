//! What a situation can say, before any rule: the vocabulary (every fact's
//! path, kind and slot), the values facts hold, and the bundle's clock
//! (its time zone, business hours and holidays). The expression language
//! (`expr/`) and the compiled bundle (`model/`) both build on these; this
//! folder imports neither.

pub(crate) mod calendar;
pub(crate) mod shared;
pub(crate) mod spec;
pub(crate) mod vocabulary;
pub(crate) mod zone;
