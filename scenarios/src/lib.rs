//! Course scenarios for kubesim: exercises in steps, checked by CEL expressions over the live
//! cluster and its history.
