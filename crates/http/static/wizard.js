// Checks each wizard field as it is entered, with the same rules as the server (it asks the
// server). Works without this script too: the server checks everything on submit.
(function () {
  const form = document.querySelector("form[data-live-check]");
  if (!form) return;
  const url = form.getAttribute("data-live-check");
  const csrf = form.querySelector("input[name=csrf]").value;
  const agreement = () => {
    const checked = form.querySelector("input[name=agreement_type]:checked");
    return checked ? checked.value : "";
  };
  async function check(name, value) {
    const body = new URLSearchParams({ csrf, field: name, value, agreement_type: agreement() });
    const resp = await fetch(url, { method: "POST", body, credentials: "same-origin" });
    if (!resp.ok) return;
    const result = await resp.json();
    const error = document.getElementById(name + "-error");
    const input = document.getElementById(name);
    if (!error) return;
    error.textContent = result.ok ? "" : result.message;
    error.hidden = result.ok;
    if (input) {
      if (result.ok) { input.removeAttribute("aria-invalid"); } else { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", name + "-error"); }
      input.closest(".field").classList.toggle("invalid", !result.ok);
    }
  }
  form.querySelectorAll("input[data-check]").forEach((input) => {
    input.addEventListener("change", () => { if (input.value !== "") check(input.name, input.value); });
  });
  form.querySelectorAll("input[name=agreement_type]").forEach((radio) => {
    radio.addEventListener("change", () => {
      const billing = document.getElementById("billing_account_id");
      if (billing && billing.value !== "") check("billing_account_id", billing.value);
    });
  });
})();
