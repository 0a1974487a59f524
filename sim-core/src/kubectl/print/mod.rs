//! Printers that render API objects the way kubectl does.
