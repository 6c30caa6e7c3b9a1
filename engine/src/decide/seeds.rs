//! Reading a situation against the vocabulary value by value: serde seeds
//! that walk the vocabulary's groups and facts, so the parser attaches the
//! line and column of the offending value to every error, for YAML and
//! JSON alike.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::decide::reader::{shown, Detail, Reader};
use crate::facts::calendar;
use crate::facts::vocabulary::{Fact, FactValue, PathKind};
use crate::model::policy::FactKind;
use crate::text::suggest;

/// The seed that reads the whole situation.
pub(super) fn root<'r, 'v>(reader: &'r Reader<'v>) -> GroupSeed<'r, 'v> {
    GroupSeed {
        reader,
        path: String::new(),
    }
}

fn join(group: &str, key: &str) -> String {
    if group.is_empty() {
        key.to_string()
    } else {
        format!("{group}.{key}")
    }
}

/// A map key as text: `1: x` or `true: x` is a key named `1` or `true`,
/// reported as an unknown field, never as serde's "invalid type".
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

pub(super) struct GroupSeed<'r, 'v> {
    reader: &'r Reader<'v>,
    path: String,
}

impl<'de> DeserializeSeed<'de> for GroupSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl GroupSeed<'_, '_> {
    fn unknown_field<E: de::Error>(&self, key: &str, path: String) -> E {
        let children = self.reader.vocabulary.children(&self.path);
        let names: Vec<&str> = children.iter().map(|(name, _)| *name).collect();
        let hint = suggest::closest(key, names.iter().copied()).map_or_else(String::new, |name| {
            format!("; você quis dizer `{}`?", join(&self.path, name))
        });
        self.reader.fail(Detail {
            field: path,
            found: None,
            allowed: Some(names.join(", ")),
            message: format!("campo desconhecido (não está no vocabulário){hint}; use --lenient para ignorá-lo"),
            key: Some(key.to_string()),
            duplicate: false,
        })
    }

    fn not_a_map<E: de::Error>(&self, found: String) -> E {
        let field = if self.path.is_empty() {
            "(root)".to_string()
        } else {
            self.path.clone()
        };
        let allowed = self
            .reader
            .vocabulary
            .children(&self.path)
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ");
        self.reader.fail(Detail {
            field,
            found: Some(found),
            allowed: Some(format!("um mapa com os campos {allowed}")),
            message: "esperado um grupo de campos".into(),
            key: None,
            duplicate: false,
        })
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of facts")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<KeyText>()? {
            let KeyText(key) = key;
            let path = join(&self.path, &key);
            if !seen.insert(key.clone()) {
                return Err(self.reader.fail(Detail {
                    field: path,
                    message: format!("chave `{key}` repetida"),
                    key: Some(key),
                    duplicate: true,
                    ..Detail::default()
                }));
            }
            match self.reader.vocabulary.lookup(&path) {
                Some(PathKind::Group) => map.next_value_seed(GroupSeed {
                    reader: self.reader,
                    path,
                })?,
                Some(PathKind::Fact(fact)) => map.next_value_seed(FactSeed {
                    reader: self.reader,
                    fact,
                })?,
                None if self.reader.lenient => {
                    map.next_value::<IgnoredAny>()?;
                    self.reader.warnings.borrow_mut().push(format!(
                        "campo desconhecido `{path}` ignorado (não está no vocabulário)"
                    ));
                }
                None => return Err(self.unknown_field(&key, path)),
            }
        }
        Ok(())
    }

    // An empty group (`client:` with nothing under it) gives no facts.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.not_a_map(format!("`{v}`")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(self.not_a_map(shown(v)))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(self.not_a_map("uma lista".into()))
    }
}

struct FactSeed<'r, 'v> {
    reader: &'r Reader<'v>,
    fact: &'v Fact,
}

impl<'de> DeserializeSeed<'de> for FactSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl FactSeed<'_, '_> {
    fn accept<E: de::Error>(&self, value: FactValue) -> Result<(), E> {
        self.reader.facts.borrow_mut().insert(self.fact.path.clone(), value);
        Ok(())
    }

    /// Refuses the value, echoing it in `found` unless the fact is
    /// personal: the error goes to logs and screens the client's data must
    /// not reach.
    fn reject<E: de::Error>(&self, found: String, message: &str) -> E {
        let found = if self.fact.spec.personal {
            "um valor (omitido: fato pessoal)".to_string()
        } else {
            found
        };
        self.refuse(found, message)
    }

    /// Refuses the value with `found` describing it without its content.
    fn refuse<E: de::Error>(&self, found: String, message: &str) -> E {
        self.reader.fail(Detail {
            field: self.fact.path.clone(),
            found: Some(found),
            allowed: Some(self.fact.allowed()),
            message: message.to_string(),
            key: None,
            duplicate: false,
        })
    }

    fn wrong_type<E: de::Error>(&self, found: String) -> E {
        self.reject(found, "tipo errado")
    }

    fn text<E: de::Error>(&self, v: &str) -> Result<(), E> {
        let value = match self.fact.spec.kind {
            FactKind::Text => {
                let length = v.chars().count();
                match self.fact.spec.max_length {
                    Some(max) if length > max => {
                        return Err(self.refuse(
                            format!("um texto de {length} caracteres"),
                            &format!("texto longo demais: o máximo é {max} caracteres (`max_length` no vocabulário)"),
                        ))
                    }
                    _ => FactValue::Text(v.into()),
                }
            }
            FactKind::Enum => {
                let allowed = self.fact.spec.values.iter().flatten().any(|value| value == v);
                if !allowed {
                    let hint = suggest::closest(v, self.fact.spec.values.iter().flatten().map(String::as_str))
                        .map_or_else(String::new, |value| format!("; você quis dizer `{value}`?"));
                    return Err(self.reject(shown(v), &format!("valor desconhecido{hint}")));
                }
                FactValue::Text(v.into())
            }
            FactKind::Date => FactValue::Date(
                calendar::parse_date(v).map_err(|_| self.reject(shown(v), "data impossível ou malformada"))?,
            ),
            FactKind::Datetime => FactValue::DateTime(
                calendar::parse_datetime(v)
                    .map_err(|_| self.reject(shown(v), "data e hora impossíveis ou malformadas"))?,
            ),
            // People write yes/no in Portuguese: `sim`/`não` read as true/false.
            FactKind::Bool => match v.trim().to_lowercase().as_str() {
                "sim" => FactValue::Bool(true),
                "não" | "nao" => FactValue::Bool(false),
                _ => return Err(self.wrong_type(format!("texto {}", shown(v)))),
            },
            FactKind::Integer => return Err(self.wrong_type(format!("texto {}", shown(v)))),
        };
        self.accept(value)
    }

    fn integer<E: de::Error>(&self, v: i128) -> Result<(), E> {
        match self.fact.spec.kind {
            FactKind::Integer => match i64::try_from(v) {
                Ok(n)
                    if self.fact.spec.minimum.is_none_or(|min| n >= min)
                        && self.fact.spec.maximum.is_none_or(|max| n <= max) =>
                {
                    self.accept(FactValue::Integer(n))
                }
                _ => Err(self.reject(format!("`{v}`"), "número fora do intervalo")),
            },
            // Codes and phone numbers written without quotes are still text.
            FactKind::Text => self.accept(FactValue::Text(v.to_string().into())),
            _ => Err(self.wrong_type(format!("número `{v}`"))),
        }
    }
}

impl<'de> Visitor<'de> for FactSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fact.allowed())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        if self.fact.spec.kind == FactKind::Bool {
            self.accept(FactValue::Bool(v))
        } else {
            Err(self.wrong_type(format!("booleano `{v}`")))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.integer(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.integer(i128::from(v))
    }
    // YAML integers past 64 bits (a long code written without quotes).
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<(), E> {
        self.integer(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<(), E> {
        match i128::try_from(v) {
            Ok(n) => self.integer(n),
            Err(_) if self.fact.spec.kind == FactKind::Text => self.accept(FactValue::Text(v.to_string().into())),
            Err(_) if self.fact.spec.kind == FactKind::Integer => {
                Err(self.reject(format!("`{v}`"), "número fora do intervalo"))
            }
            Err(_) => Err(self.wrong_type(format!("número `{v}`"))),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(self.wrong_type(format!("número decimal `{v}`")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.text(v)
    }
    // `field: ~` or `field: null` means "not given".
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(self.wrong_type("uma lista".into()))
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(self.wrong_type("um mapa".into()))
    }
}
