//! Customers: who is billed for a grouping value (a family, by default): billing name, address,
//! e-mail recipients, tax ID, purchase order number, payment terms. A value without a customer
//! is billed under its own name.

use std::collections::BTreeMap;

use be_domain::invoicing::Customer;
use be_domain::{Email, FieldError, OrganizationId};
use be_store::{CustomerRecord, StoreError};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Caller, Result};

/// A customer as people write it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// The grouping value (a family's name).
    pub key: String,
    pub billing_name: String,
    #[serde(default)]
    pub address: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub purchase_order: Option<String>,
    /// Overrides the template's payment terms.
    #[serde(default)]
    pub payment_terms_days: Option<u32>,
}

/// A grouping value and who is billed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerView {
    #[serde(flatten)]
    pub customer: Customer,
    /// Set up by a person (otherwise billed under the value's own name).
    pub configured: bool,
}

fn text(
    raw: Option<String>,
    field: &str,
    max: usize,
) -> std::result::Result<Option<String>, FieldError> {
    let Some(t) = raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.chars().count() > max || be_domain::has_deceptive(&t) {
        return Err(FieldError::new(
            field.to_string(),
            "text_invalid",
            format!(
                "At most {max} characters, on one line, without invisible or text-direction characters."
            ),
        ));
    }
    Ok(Some(t))
}

impl CustomerInput {
    pub fn parse(self) -> std::result::Result<Customer, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: std::result::Result<Option<String>, FieldError>| {
            r.map_err(|e| errors.push(e)).ok().flatten()
        };
        let key = keep(text(Some(self.key), "key", 200));
        let billing_name = keep(text(Some(self.billing_name), "billing_name", 200));
        let address: Vec<String> = self
            .address
            .into_iter()
            .enumerate()
            .filter_map(|(i, l)| keep(text(Some(l), &format!("address[{i}]"), 200)))
            .collect();
        let tax_id = keep(text(self.tax_id, "tax_id", 64));
        let purchase_order = keep(text(self.purchase_order, "purchase_order", 64));
        let emails: Vec<Email> = self
            .emails
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.trim().is_empty())
            .filter_map(|(i, e)| {
                Email::parse(e)
                    .map_err(|err| errors.push(super::templates::at(err, format!("emails[{i}]"))))
                    .ok()
            })
            .collect();
        if address.len() > 6 {
            errors.push(FieldError::new(
                "address",
                "address_too_long",
                "An address has at most 6 lines.",
            ));
        }
        if emails.len() > 10 {
            errors.push(FieldError::new(
                "emails",
                "too_many_recipients",
                "At most 10 recipients.",
            ));
        }
        if self.payment_terms_days.is_some_and(|d| d > 365) {
            errors.push(FieldError::new(
                "payment_terms_days",
                "terms_invalid",
                "Payment terms are 0 to 365 days.",
            ));
        }
        match (key, billing_name) {
            (Some(key), Some(billing_name)) if errors.is_empty() => Ok(Customer {
                key,
                billing_name,
                address,
                emails,
                tax_id,
                purchase_order,
                payment_terms_days: self.payment_terms_days,
            }),
            (key, name) => {
                if key.is_none() {
                    errors.push(FieldError::new(
                        "key",
                        "required",
                        "Name the family (or other value) this customer is billed for.",
                    ));
                }
                if name.is_none() {
                    errors.push(FieldError::new(
                        "billing_name",
                        "required",
                        "Give the name invoices are addressed to.",
                    ));
                }
                Err(errors)
            }
        }
    }
}

/// A value's customer as invoices show it: the configured one, or the value's own name.
pub(crate) fn customer_for(customers: &BTreeMap<String, Customer>, key: &str) -> Customer {
    customers.get(key).cloned().unwrap_or_else(|| Customer {
        key: key.to_string(),
        billing_name: key.to_string(),
        address: vec![],
        emails: vec![],
        tax_id: None,
        purchase_order: None,
        payment_terms_days: None,
    })
}

impl App {
    /// Every family with its customer (configured or not), and customers of other values.
    pub async fn customers(&self, caller: &Caller) -> Result<Vec<CustomerView>> {
        caller.require(be_domain::Permission::ReadInvoices)?;
        let org = caller.organization_id;
        let mut configured = self.customer_map(org).await?;
        let families = self.load_pricing(org).await?.config.families;
        let mut out: Vec<CustomerView> = families
            .iter()
            .map(|f| {
                let key = f.name.to_string();
                CustomerView {
                    configured: configured.contains_key(&key),
                    customer: configured
                        .remove(&key)
                        .unwrap_or_else(|| customer_for(&BTreeMap::new(), &key)),
                }
            })
            .collect();
        out.extend(configured.into_values().map(|customer| CustomerView {
            customer,
            configured: true,
        }));
        out.sort_by_key(|c| c.customer.key.to_lowercase());
        Ok(out)
    }

    pub async fn set_customer(
        &self,
        caller: &Caller,
        input: CustomerInput,
    ) -> Result<CustomerView> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        let customer = input.parse().map_err(AppError::InvalidFields)?;
        let record = CustomerRecord {
            organization_id: caller.organization_id,
            key: customer.key.clone(),
            document: serde_json::to_string(&customer).map_err(AppError::internal)?,
            updated_at: self.clock.now(),
        };
        self.store.upsert_customer(&record).await?;
        Ok(CustomerView {
            customer,
            configured: true,
        })
    }

    pub async fn delete_customer(&self, caller: &Caller, key: &str) -> Result<()> {
        caller.require(be_domain::Permission::ManageInvoices)?;
        if !self
            .store
            .delete_customer(caller.organization_id, key)
            .await?
        {
            return Err(AppError::NotFound {
                code: "customer_not_found",
                message: "There is no customer for this value.".into(),
            });
        }
        Ok(())
    }

    pub(crate) async fn customer_map(
        &self,
        org: OrganizationId,
    ) -> Result<BTreeMap<String, Customer>> {
        self.store
            .list_customers(org)
            .await?
            .into_iter()
            .map(|r| {
                serde_json::from_str::<Customer>(&r.document)
                    .map(|c| (r.key.clone(), c))
                    .map_err(|e| {
                        AppError::internal(StoreError::Corrupt(format!("customer {}: {e}", r.key)))
                    })
            })
            .collect()
    }
}
